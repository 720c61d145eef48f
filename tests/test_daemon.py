"""The daemon as a real process: lifecycle, permissions, races, robustness."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_support import DaemonProcess, kill_detached, raw, running_daemon, wait_for
from stub_api import Hang, Reply, StubAPI

from codetier import cli, ledger
from codetier.daemon import client, lifecycle

CODETIER = str(Path(sys.executable).with_name("codetier"))


@pytest.fixture(autouse=True)
def no_daemon_left() -> Iterator[None]:
    yield
    kill_detached()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    with running_daemon(tmp_path / "daemon.log") as d:
        yield d


def test_socket_is_private(daemon: DaemonProcess) -> None:
    sock = Path(client.socket_path())
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert lifecycle.read_pid() == daemon.pid


def test_client_refuses_a_runtime_dir_others_can_enter(daemon: DaemonProcess) -> None:
    rundir = Path(client.socket_path()).parent
    os.chmod(rundir, 0o755)
    try:
        assert not client.running()
    finally:
        os.chmod(rundir, 0o700)
    assert client.running()


def test_malformed_requests_get_errors_and_the_daemon_keeps_answering(daemon: DaemonProcess) -> None:
    replies = raw(
        [
            b"{not json\n",
            b'"just a string"\n',
            b'{"jsonrpc": "2.0", "id": 1, "method": "no_such_method"}\n',
            b'{"jsonrpc": "2.0", "id": 2, "method": "route", "params": {"text": 42}}\n',
            b'{"jsonrpc": "2.0", "id": 3, "method": "watch", "params": {"repo": "/nonexistent/x"}}\n',
            b'{"jsonrpc": "2.0", "id": 4, "method": "ping"}\n',
        ]
    )
    assert [r.get("error", {}).get("code") for r in replies] == [-32700, -32600, -32601, -32602, -32603, None]
    assert replies[-1]["result"] == "pong"
    assert "text" in replies[3]["error"]["message"]
    assert client.call("ping") == "pong"


def test_a_client_that_disconnects_mid_request_wedges_nothing(daemon: DaemonProcess) -> None:
    for payload in (b'{"jsonrpc": "2.0", "id": 1, "method": "status"}\n', b'{"jsonrpc": "2.0", "id"'):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(client.socket_path())
        s.sendall(payload)
        s.close()
    assert client.call("status")["pid"] == daemon.pid


def test_fifty_concurrent_clients_are_all_answered(daemon: DaemonProcess) -> None:
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                client.call("route", {"text": f"explain module {i}", "cwd": "/"}, timeout=30)["task"]
            )
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert results == ["explain"] * 50


def test_two_racing_starts_leave_exactly_one_serving(tmp_path: Path) -> None:
    first = DaemonProcess(tmp_path / "a.log")
    second = DaemonProcess(tmp_path / "b.log")
    try:
        wait_for(lambda: client.running(timeout=0.5), what="a daemon to answer")
        # The loser exits on its own, saying who serves.
        loser = wait_for(
            lambda: next((d for d in (first, second) if d.proc.poll() is not None), None),
            what="the loser to exit",
        )
        winner = second if loser is first else first
        assert loser.proc.returncode == 0
        assert f"already running (pid {winner.pid})" in loser.log.read_text()
        assert winner.proc.poll() is None
        assert client.call("status")["pid"] == winner.pid
    finally:
        first.stop()
        second.stop()


def test_sigterm_drains_a_request_in_flight(stub: StubAPI, tmp_path: Path, repo: Path) -> None:
    stub.script(Hang(1.0))
    answers: list[object] = []
    with running_daemon(tmp_path / "daemon.log") as d:

        def ask() -> None:
            answers.append(client.call("run", {"text": "explain this code", "cwd": str(repo)}, timeout=30))

        t = threading.Thread(target=ask)
        t.start()
        wait_for(lambda: stub.calls == 1, what="the model call to start")
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=30) == 0
        t.join(timeout=30)
    assert answers and answers[0]["output"] == "late"  # type: ignore[index]
    assert not Path(client.socket_path()).exists()


def test_idle_shutdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_DAEMON__IDLE_MINUTES", "0.01")
    d = DaemonProcess(tmp_path / "daemon.log").ready()
    try:
        assert d.proc.wait(timeout=20) == 0
        assert "idle" in d.log.read_text()
    finally:
        d.stop()


def test_bad_idle_minutes_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_DAEMON__IDLE_MINUTES", '"soon"')
    d = DaemonProcess(tmp_path / "daemon.log")
    assert d.proc.wait(timeout=20) == 2
    d.stop()
    assert "daemon.idle_minutes" in d.log.read_text()


def test_cli_start_status_stop(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CODETIER, "daemon", *args], capture_output=True, text=True, timeout=60)

    assert run("status").returncode == 1
    started = run("start")
    assert started.returncode == 0, started.stderr
    pid = lifecycle.read_pid()
    assert f"started (pid {pid}" in started.stdout
    again = run("start")
    assert f"already running (pid {pid}" in again.stdout
    status = run("status")
    assert status.returncode == 0 and f"running (pid {pid}" in status.stdout
    stopped = run("stop")
    assert stopped.returncode == 0 and f"stopped (pid {pid})" in stopped.stdout
    assert run("status").returncode == 1


def test_a_detached_start_that_fails_with_sigchld_ignored_says_so() -> None:
    """Some launchers leave SIGCHLD ignored (it survives exec): the failed child is reaped
    by the system, and the parent must still answer, not crash on waiting for it."""
    run_dir = Path(os.environ["CODETIER_HOME"]) / "run"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    run_dir.write_text("")  # a file where the socket's directory must go: the child fails

    def ignore_sigchld() -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    proc = subprocess.run(
        [sys.executable, "-m", "codetier.daemon", "--detach"],
        preexec_fn=ignore_sigchld,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_kill_9_leaves_a_stale_socket_that_status_cleans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = DaemonProcess(tmp_path / "daemon.log").ready()
    d.proc.kill()
    d.proc.wait(timeout=10)
    d.stop()
    assert Path(client.socket_path()).exists() and lifecycle.read_pid() == d.pid
    assert not client.running()
    assert cli.main(["daemon", "status"]) == 1
    assert "removed a stale socket and pid file" in capsys.readouterr().out
    assert not Path(client.socket_path()).exists() and lifecycle.read_pid() is None
    # A fresh daemon starts over the crash's leftovers.
    with running_daemon(tmp_path / "again.log") as again:
        assert client.call("status")["pid"] == again.pid


def test_run_through_the_daemon_writes_the_same_ledger_row(
    stub: StubAPI, daemon: DaemonProcess, repo: Path
) -> None:
    stub.script(Reply("It adds numbers.", input_tokens=100, output_tokens=10))
    result = client.call("run", {"text": "explain this code", "cwd": str(repo), "source": "cli"}, timeout=30)
    assert result["output"] == "It adds numbers."
    db = ledger.connect()
    rows = db.execute("SELECT source, task, tier, outcome, cost_micros FROM attempts").fetchall()
    assert rows == [("cli", "explain", "balanced", "ok", result["cost_micros"])]
    assert result["cost_micros"] > 0
