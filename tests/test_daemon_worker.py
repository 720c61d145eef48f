"""The daemon's model worker: a child process that holds the SDK, exits when
idle, is replaced when it dies, and takes cancels; the daemon itself never
imports the SDK."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git
from daemon_support import DaemonProcess, _alive, kill_detached, running_daemon, wait_for
from stub_api import Callback, Recorded, Reply, StubAPI

from codetier import cli
from codetier.daemon import client

SUBJECT = "Add a greeting helper"


@pytest.fixture(autouse=True)
def no_daemon_left() -> Iterator[None]:
    yield
    kill_detached()


def stage(repo: Path, name: str, body: str) -> None:
    (repo / name).write_text(body)
    git(repo, "add", name)


def worker() -> dict[str, object]:
    return dict(client.call("status")["worker"])


def drafted(n: int) -> bool:
    return int(client.call("status")["drafted"]) >= n


def test_the_worker_exits_when_idle_and_the_daemon_never_loads_the_sdk(
    stub: StubAPI,
    tmp_path: Path,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CODETIER_DAEMON__WORKER_IDLE_S", "0.5")
    stub.default = Reply(SUBJECT)
    with running_daemon(tmp_path / "daemon.log"):
        assert worker()["up"] is False  # nothing started before a repo registers
        client.call("watch", {"repo": str(repo)})
        stage(repo, "a.py", "a = 1\n")
        wait_for(lambda: drafted(1), what="a draft")
        pid = wait_for(lambda: worker()["pid"], what="the worker's pid")
        status = client.call("status")
        assert status["sdk_loaded"] is False
        wait_for(lambda: worker()["up"] is False, what="the idle worker to exit")
        wait_for(lambda: not _alive(int(pid)), what="the worker process to be gone")  # type: ignore[call-overload]
        assert worker()["died"] == 0  # retired, not dead
        assert cli.main(["daemon", "status"]) == 0
        assert "model worker: not running (starts with the next draft; stops after 0.5 s idle)" in (
            capsys.readouterr().out
        )
        # The next draft starts a new (cold) worker.
        stage(repo, "b.py", "b = 2\n")
        wait_for(lambda: drafted(2), what="a draft from a fresh worker")
        assert worker()["started"] == 2
        assert client.call("status")["sdk_loaded"] is False


def test_a_killed_worker_is_replaced_and_a_stopped_daemon_leaves_none(
    stub: StubAPI, tmp_path: Path, repo: Path
) -> None:
    stub.default = Reply(SUBJECT)
    with running_daemon(tmp_path / "daemon.log") as d:
        client.call("watch", {"repo": str(repo)})
        stage(repo, "a.py", "a = 1\n")
        wait_for(lambda: drafted(1), what="a draft")
        first = int(wait_for(lambda: worker()["pid"], what="the worker's pid"))  # type: ignore[call-overload]
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: worker()["died"] == 1, what="the daemon to notice the dead worker")
        assert client.call("ping") == "pong"
        stage(repo, "b.py", "b = 2\n")
        wait_for(lambda: drafted(2), what="a draft from the new worker")
        second = int(worker()["pid"])  # type: ignore[call-overload]
        assert second != first and worker()["started"] == 2
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=30) == 0
    wait_for(lambda: not _alive(second), what="the worker to stop with the daemon")


def test_a_newer_staged_change_cancels_the_draft_in_the_worker(
    stub: StubAPI, tmp_path: Path, repo: Path
) -> None:
    gate = threading.Event()

    def first_attempt(request: Recorded) -> Reply:
        gate.wait(20)
        return Reply("```\nnot a commit message\n```")  # fails the check: the next link would be called

    stub.script(Callback(first_attempt), times=1)
    stub.default = Reply(SUBJECT)
    with running_daemon(tmp_path / "daemon.log") as d:
        client.call("watch", {"repo": str(repo)})
        stage(repo, "a.py", "a = 1\n")
        wait_for(lambda: stub.calls == 1, what="the first draft's model call")
        stage(repo, "b.py", "b = 2\n")
        wait_for(lambda: "cancel requested" in d.log.read_text(), what="the cancel to reach the worker")
        gate.set()
        wait_for(lambda: drafted(1), what="the draft for the newer change")
        assert "cancelled by a newer staged change" in d.log.read_text()
    # The cancelled draft stopped before its escalation link: one call for it, one for the new draft.
    assert stub.calls == 2


def test_bad_worker_idle_s_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_DAEMON__WORKER_IDLE_S", "-1")
    d = DaemonProcess(tmp_path / "daemon.log")
    assert d.proc.wait(timeout=20) == 2
    d.stop()
    assert "daemon.worker_idle_s" in d.log.read_text()
