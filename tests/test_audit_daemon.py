"""`codetier audit` answered by a running daemon: the same output as in-process,
and every case the daemon must not answer falls back to the CLI's own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_support import audit, usage_line, write
from daemon_support import DaemonProcess, kill_detached, running_daemon

from codetier import __version__, ledger
from codetier.audit import ingest, pipeline
from codetier.cli import main
from codetier.cli.common import load
from codetier.daemon import client
from codetier.daemon.protocol import ELSEWHERE, RpcFailure


@pytest.fixture(autouse=True)
def no_daemon_left() -> Iterator[None]:
    yield
    kill_detached()


@pytest.fixture
def daemon(claude: Path, tmp_path: Path) -> Iterator[DaemonProcess]:
    with running_daemon(tmp_path / "daemon.log") as d:  # started in the test's environment
        yield d


def served() -> int:
    return int(client.call("status")["audits"])


def in_process(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> dict[str, Any]:
    """The same audit with no daemon: another CODETIER_HOME (so another ledger and socket)."""
    old = os.environ["CODETIER_HOME"]
    os.environ["CODETIER_HOME"] = str(home)
    try:
        return audit(capsys, *args)
    finally:
        os.environ["CODETIER_HOME"] = old


def test_the_daemon_answers_a_plain_audit_as_the_cli_would(
    daemon: DaemonProcess,
    claude: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = audit(capsys)
    assert served() == 1
    alone = in_process(capsys, tmp_path / "alone")
    assert first == alone and first["totals"]["entries"] == 4
    # Appended data: the daemon reads only that, as the CLI would.
    write(claude / "projects" / "-work-app" / "sess-1.jsonl",
          [usage_line("m9", "r9", "claude-opus-5", "2026-11-21T12:00:00Z", 7, 7)], mode="a")  # fmt: skip
    again = audit(capsys, "--since", "2026-11-21")
    assert served() == 2
    assert again == in_process(capsys, tmp_path / "alone", "--since", "2026-11-21")
    assert again["scan"]["files_read"] == 1 and again["scan"]["new_entries"] == 1
    # The terminal report is rendered by the CLI from the daemon's data.
    assert main(["audit"]) == 0
    assert served() == 3
    assert "Claude Code usage by day and model" in capsys.readouterr().out


def test_the_json_text_is_the_same_byte_for_byte(
    daemon: DaemonProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--json"]) == 0
    by_daemon = capsys.readouterr().out
    assert served() == 1
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "alone"))
    assert main(["audit", "--json"]) == 0
    assert capsys.readouterr().out == by_daemon


def test_another_time_zone_is_audited_in_process(
    daemon: DaemonProcess, claude: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Days are local dates: a daemon in UTC must not date a client's entries in +05:30."""
    write(claude / "projects" / "-work-app" / "late.jsonl",
          [usage_line("m8", "r8", "claude-opus-5", "2026-11-21T20:00:00Z", 7, 7)])  # fmt: skip
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    got = audit(capsys)
    assert served() == 0
    assert "2026-11-22" in [d["day"] for d in got["daily"]]  # 01:30 the next day there
    assert got == in_process(capsys, tmp_path / "alone")


def test_import_is_never_held_in_the_daemon(
    daemon: DaemonProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit(capsys, "--import")["imported"] == 4
    assert served() == 0


def test_the_daemon_refuses_another_version_or_environment(daemon: DaemonProcess, claude: Path) -> None:
    params = {"paths": [str(claude)], "cwd": os.getcwd(), "env": client.audit_env(), "version": __version__}
    env = client.audit_env()
    for bad in (
        {"version": "0.0.0"},
        {"env": {**env, "TZ": "Europe/Paris"}},
        {"env": {**env, "XDG_DATA_HOME": "/elsewhere"}},  # another ledger, when CODETIER_HOME is unset
        {"env": {**env, "utc offsets": "19800 19800 19800"}},  # the system zone changed under one TZ
    ):
        with pytest.raises(client.RpcError) as e:
            client.call("audit", {**params, **bad})
        assert e.value.code == ELSEWHERE
    with pytest.raises(client.RpcError) as e:
        client.call("audit", {**params, "paths": ["claude"]})
    assert "absolute" in str(e.value)
    assert served() == 0
    assert client.call("audit", params)["totals"]["entries"] == 4


def test_a_limit_reads_nothing_and_writes_nothing(claude: Path) -> None:
    """What the daemon does with a big read: refuse before the first byte, so the CLI's
    own run (on every core) finds everything still new. The limit is where the CLI starts
    its parallel readers: that many bytes are already too many."""
    _, reg = load()
    size = sum(p.stat().st_size for p in claude.rglob("*.jsonl"))
    with pytest.raises(ingest.TooMuch):
        pipeline.audit([claude], None, reg, limit=size)
    db = ledger.connect()
    assert db.execute("SELECT COUNT(*) FROM audit_files").fetchone() == (0,)
    db.close()
    assert pipeline.audit([claude], None, reg, limit=size + 1)["totals"]["entries"] == 4


def test_a_busy_daemon_sends_the_next_audit_back_at_once(claude: Path) -> None:
    """A client never waits behind another audit in the daemon: it runs its own."""
    from codetier.daemon.methods import State, methods

    state = State()
    audit_method = methods(state, {})["audit"]
    params = {"paths": [str(claude)], "cwd": os.getcwd(), "env": client.audit_env(), "version": __version__}
    with state.audit_lock, pytest.raises(RpcFailure) as e:
        audit_method(params)
    assert e.value.code == ELSEWHERE
    assert audit_method(params)["totals"]["entries"] == 4 and state.audits == 1


def test_relative_paths_are_kept_absolute(
    claude: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A file is known by its path from run to run: the same whichever directory (or
    process) the audit runs from."""
    monkeypatch.chdir(claude)
    first = audit(capsys, "projects")
    monkeypatch.chdir(claude / "projects")
    assert audit(capsys, ".")["scan"]["files_read"] == 0
    db = ledger.connect()
    paths = [p for (p,) in db.execute("SELECT path FROM audit_files")]
    db.close()
    assert paths and all(Path(p).is_absolute() for p in paths)
    assert first["totals"]["entries"] == 4


def test_a_path_through_a_link_and_dot_dot_is_not_normalised(
    claude: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "link/.." is the link target's parent, as the shell and the OS have it, not "."."""
    (claude / "inner").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(claude / "inner")
    assert audit(capsys, "link/../projects")["totals"]["entries"] == 4


def test_a_stopped_daemon_leaves_the_cli_working(
    claude: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_daemon(tmp_path / "daemon.log"):
        pass  # started and stopped: its socket is gone
    assert audit(capsys)["totals"]["entries"] == 4
    json.dumps(client.audit_env())  # plain strings only: it travels as JSON


def test_a_client_the_daemon_answers_imports_none_of_the_audit(daemon: DaemonProcess) -> None:
    """The point of asking the daemon: the client skips the ~60 ms of imports the audit needs."""
    code = (
        "import sys, io; from codetier.cli import main; sys.stdout = io.StringIO();"
        " assert main(['audit', '--json']) == 0;"
        " print(sorted(m for m in ('msgspec', 'sqlite3', 'codetier.registry', 'typing', 'click')"
        " if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"
    assert served() == 1
