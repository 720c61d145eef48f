"""Where the client looks for the daemon, and what it does when there is none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git

from codetier.daemon import client


def test_codetier_home_holds_the_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_HOME", "/tmp/ct-home")
    assert client.socket_path() == "/tmp/ct-home/run/daemon.sock"


def test_xdg_runtime_dir_without_codetier_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODETIER_HOME")
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1234")
    assert client.runtime_dir() == "/run/user/1234/codetier"


def test_a_path_too_long_for_a_unix_socket_moves_to_a_short_private_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODETIER_HOME", "/tmp/" + "x" * 120)
    path = client.socket_path()
    assert len(path.encode()) <= client.MAX_SOCKET_PATH
    assert path.startswith(f"/tmp/codetier-{os.getuid()}-")
    monkeypatch.setenv("CODETIER_HOME", "/tmp/" + "y" * 120)
    assert client.socket_path() != path  # one per home, never shared


def test_no_daemon_means_no_draft_and_no_error(repo: Path) -> None:
    (repo / "a.py").write_text("a = 1\n")
    git(repo, "add", "a.py")
    assert client.draft(str(repo)) is None
    with pytest.raises(client.Unavailable):
        client.call("ping", timeout=0.2)


def test_staged_hash_follows_the_index(repo: Path) -> None:
    assert client.staged_hash(str(repo)) is None  # nothing staged
    (repo / "a.py").write_text("a = 1\n")
    git(repo, "add", "a.py")
    first = client.staged_hash(str(repo))
    assert first is not None and first == client.staged_hash(str(repo))
    (repo / "a.py").write_text("a = 2\n")
    assert client.staged_hash(str(repo)) == first  # the work tree does not count
    git(repo, "add", "a.py")
    assert client.staged_hash(str(repo)) != first


def test_the_client_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import os, sys, codetier.daemon.client as c;"
        " print(sorted(m for m in sys.modules if m.startswith('codetier')));"
        " os.makedirs(c.runtime_dir(), mode=0o700, exist_ok=True);"  # a runtime dir, no socket in it
        " print(c.running(), 'socket' in sys.modules)"  # no daemon: no socket module either
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["['codetier', 'codetier.daemon', 'codetier.daemon.client']", "False False"]


def test_linux_without_xdg_runtime_dir_uses_a_private_tmp_dir_without_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CODETIER_HOME")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(client.sys, "platform", "linux")
    assert client.runtime_dir() == f"/tmp/codetier-{os.getuid()}"  # filterwarnings=error: no warning either


def test_daemon_status_prints_no_runtime_dir_warning(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("CODETIER_HOME", "XDG_RUNTIME_DIR")}
    proc = subprocess.run(
        [sys.executable, "-m", "codetier", "daemon", "status"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "RuntimeDirWarning" not in proc.stderr
    assert "XDG_RUNTIME_DIR" not in proc.stderr
