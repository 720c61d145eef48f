"""Drafts made before git asks: a real daemon, a real repo, a real `git commit`
through the prepare-commit-msg hook, and the stub answering for the model."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git
from daemon_support import DaemonProcess, kill_detached, running_daemon, wait_for
from stub_api import Fault, Reply, StubAPI

from codetier import ledger
from codetier.daemon import client, ledger_rows

SUBJECT = "Add a greeting helper"


@pytest.fixture(autouse=True)
def no_daemon_left() -> Iterator[None]:
    yield
    kill_detached()


@pytest.fixture
def hooked(repo: Path) -> Path:
    """The repo with the prepare-commit-msg hook installed as a plain git hook."""
    hook = repo / ".git" / "hooks" / "prepare-commit-msg"
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m codetier_hooks.prepare_commit_msg "$@"\n')
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    return repo


def stage(repo: Path, name: str = "greet.py", body: str = "def greet():\n    return 'hi'\n") -> None:
    (repo / name).write_text(body)
    git(repo, "add", name)


def commit(repo: Path) -> str:
    """A real `git commit` with no message: the hook writes it."""
    git(repo, "commit", "-q", "--no-edit", "--cleanup=strip")
    return git(repo, "log", "-1", "--format=%B").strip()


def rows() -> list[tuple[object, ...]]:
    db = ledger.connect()
    try:
        return db.execute(
            "SELECT id, source, outcome, cost_micros, parent_id, cache_key IS NOT NULL FROM attempts ORDER BY id"
        ).fetchall()
    finally:
        db.close()


def drafted(n: int = 1) -> bool:
    return int(client.call("status")["drafted"]) >= n


@pytest.fixture
def daemon(stub: StubAPI, tmp_path: Path) -> Iterator[DaemonProcess]:
    stub.default = Reply(SUBJECT, input_tokens=400, output_tokens=12)
    with running_daemon(tmp_path / "daemon.log") as d:
        yield d


def test_git_add_drafts_and_the_commit_uses_the_draft(
    stub: StubAPI, daemon: DaemonProcess, hooked: Path
) -> None:
    assert client.call("watch", {"repo": str(hooked)})["new"] is True
    stage(hooked)
    wait_for(drafted, what="a draft after git add")
    assert stub.calls == 1
    assert commit(hooked) == SUBJECT
    assert stub.calls == 1  # the hook did not call the model
    (pre_id, pre_source, pre_outcome, pre_cost, _, pre_keyed), hit = rows()
    assert (pre_source, pre_outcome, pre_keyed) == ("daemon", "ok", 1) and pre_cost > 0
    assert hit[1:] == ("hook", "cache_hit", 0, pre_id, 1)
    db = ledger.connect()
    assert ledger_rows.waste(db, _today()) == ledger_rows.Waste(1, 1, 0, 0, pre_cost)


def test_a_draft_never_used_counts_as_waste(stub: StubAPI, daemon: DaemonProcess, repo: Path) -> None:
    client.call("watch", {"repo": str(repo)})
    stage(repo)
    wait_for(drafted, what="a draft after git add")
    stage(repo, "other.py", "x = 1\n")  # the first draft is now stale
    wait_for(lambda: drafted(2), what="a second draft")
    db = ledger.connect()
    w = ledger_rows.waste(db, _today())
    assert (w.drafts, w.used, w.wasted) == (2, 0, 2)
    assert w.wasted_micros == w.spent_micros > 0


def test_first_use_registers_the_repo(stub: StubAPI, daemon: DaemonProcess, hooked: Path) -> None:
    stage(hooked)
    # No draft yet: the hook waits while the warm daemon drafts it, and the repo is now watched.
    assert commit(hooked) == SUBJECT
    assert client.call("status")["repos"] == [str(hooked.resolve())]
    stage(hooked, "two.py", "y = 2\n")
    wait_for(lambda: drafted(2), what="a draft for the second change")
    # The change the hook asked for was drafted once, by the daemon, not again in-process.
    assert [(r[1], r[2]) for r in rows()] == [("daemon", "ok"), ("hook", "cache_hit"), ("daemon", "ok")]


def test_hook_runs_in_process_when_the_daemon_cannot_draft(
    stub: StubAPI, daemon: DaemonProcess, hooked: Path
) -> None:
    stub.script(Fault(500), times=None)
    stage(hooked)
    # Every model fails in the daemon, so it caches nothing; the hook still commits, in-process.
    message = commit(hooked)
    assert message and message != SUBJECT
    sources = [(r[1], r[2]) for r in rows()]
    assert ("daemon", "provider_error") in sources
    assert sources[-1] == ("hook", "ok")
    assert ("hook", "cache_hit") not in sources


def test_after_kill_9_the_hook_runs_in_process(stub: StubAPI, daemon: DaemonProcess, hooked: Path) -> None:
    client.call("watch", {"repo": str(hooked)})
    daemon.proc.kill()
    daemon.proc.wait(timeout=10)
    stage(hooked)
    assert commit(hooked) == SUBJECT
    assert [(r[1], r[2]) for r in rows()] == [("hook", "ok")]


def test_precompute_off_means_no_draft(
    stub: StubAPI, tmp_path: Path, hooked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (hooked / ".codetier.toml").write_text("[daemon]\nprecompute = false\n")
    stub.default = Reply(SUBJECT)
    with running_daemon(tmp_path / "daemon.log"):
        assert client.call("watch", {"repo": str(hooked)})["precompute"] is False
        stage(hooked)
        assert commit(hooked) == SUBJECT
        assert [(r[1], r[2]) for r in rows()] == [("hook", "ok")]
        assert client.call("status")["drafted"] == 0


def test_auto_start_starts_a_daemon_for_the_next_commit(stub: StubAPI, hooked: Path) -> None:
    (hooked / ".codetier.toml").write_text("[daemon]\nauto_start = true\n")
    stub.default = Reply(SUBJECT)
    stage(hooked)
    assert commit(hooked) == SUBJECT  # in-process this time
    wait_for(lambda: client.running(timeout=0.5), what="the auto-started daemon")
    assert client.call("status")["repos"] == [str(hooked.resolve())]


def test_a_provider_outage_does_not_stop_the_daemon(
    stub: StubAPI, daemon: DaemonProcess, hooked: Path
) -> None:
    stub.default = Fault(529)
    client.call("watch", {"repo": str(hooked)})
    stage(hooked)

    def failed_row() -> bool:
        return any(r[1] == "daemon" and r[2] != "ok" for r in rows())

    wait_for(failed_row, what="the precompute to fail on the model links")
    wait_for(lambda: client.call("status")["drafting"] == 0, what="the draft worker to finish")
    assert not any(r[1] == "daemon" and r[2] == "ok" for r in rows())  # never the offline link
    status = client.call("status")
    assert status["cache"]["entries"] == 0  # offline drafts are left to the hook
    assert commit(hooked)  # in-process, offline draft, commit goes through


def _today():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.date.today()
