"""Forked children are stopped through a pidfd: never a process that took a reaped child's pid."""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from codetier.audit import forks

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the audit forks on Linux only")


@pytest.fixture
def sigchld_ignored() -> Iterator[None]:
    was = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGCHLD, was)


def ended_and_reaped() -> forks.Child:
    """A Child whose process has ended and been reaped by the system (SIGCHLD ignored)."""
    child, write_fd = blocked_child()
    pid = child.pid
    assert pid
    os.close(write_fd)
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{pid}"):
        assert time.monotonic() < deadline, "the child was not reaped"
        time.sleep(0.01)
    return child


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "no-pidfd"])
def test_stop_never_signals_a_process_that_took_a_reaped_childs_pid(
    sigchld_ignored: None, monkeypatch: pytest.MonkeyPatch, pidfd: bool
) -> None:
    if not pidfd:  # as on a kernel older than 5.3

        def no_pidfd(pid: int, flags: int = 0) -> int:
            raise OSError(errno.ENOSYS, "Function not implemented")

        monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    child = ended_and_reaped()
    other, held = stranger()
    try:
        child.pid = other  # what pid reuse would do: the same number, another process
        child.stop()
        assert child.pid == 0
        # The stranger holds the pipe's write end till it ends: no EOF, it was not signalled.
        assert select.select([held], [], [], 0.5)[0] == [], "stop() signalled a process not its child"
    finally:
        os.kill(other, signal.SIGKILL)
        os.close(held)


def stranger() -> tuple[int, int]:
    """A process that is not our child (its shell has gone), as one that took a reaped
    child's pid would be, and the read end of a pipe that it alone holds open."""
    read_fd, write_fd = os.pipe()
    try:
        shell = subprocess.run(["sh", "-c", "sleep 30 2>/dev/null & echo $! >&2"], stdout=write_fd,
                               stderr=subprocess.PIPE, text=True, check=True)  # fmt: skip
    finally:
        os.close(write_fd)
    return int(shell.stderr), read_fd


def test_a_child_that_ended_before_it_was_held_is_not_waited_for(sigchld_ignored: None) -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    while os.path.exists(f"/proc/{pid}"):
        time.sleep(0.01)
    child = forks.Child(pid)
    assert child.pid == 0 and child.wait() is None
    child.stop()  # nothing to do, nothing raised


def blocked_child() -> tuple[forks.Child, int]:
    """A child that exits with 3 once the returned fd (the pipe's write end) is closed."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(write_fd)
        os.read(read_fd, 1)
        os._exit(3)
    os.close(read_fd)
    return forks.Child(pid), write_fd


def test_wait_gives_the_exit_code_or_minus_the_signal() -> None:
    exits, write_fd = blocked_child()
    os.close(write_fd)
    assert exits.wait() == 3 and exits.pid == 0
    killed, write_fd = blocked_child()
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    os.close(write_fd)


def test_stop_ends_and_reaps_a_running_child() -> None:
    child, write_fd = blocked_child()
    pid = child.pid
    try:
        child.stop()
    finally:
        os.close(write_fd)
    assert child.pid == 0
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already


# Run in a new pid namespace, where the next pid can be chosen (ns_last_pid): the child
# ends before the parent holds it, and a stranger is then given the child's pid if free.
RACE = textwrap.dedent("""
    import os, select, signal, subprocess, sys, time
    from codetier.audit import forks

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    pidfd_open, stranger = os.pidfd_open, []

    def late(pid, flags=0):  # the child has ended before the parent holds it
        while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "Z":
            time.sleep(0.01)
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 2))  # sh takes pid - 1, its sleep the child's pid if it is free
        r, w = os.pipe()
        sh = subprocess.run(["sh", "-c", "sleep 30 2>/dev/null & echo $! >&2"], stdout=w,
                            stderr=subprocess.PIPE, text=True, check=True)
        os.close(w)
        stranger.extend((int(sh.stderr), r))
        return pidfd_open(pid, flags)

    for _ in range(5):  # pids past the init process's, so that pid - 1 and pid - 2 are free
        subprocess.run(["true"], check=True)
    os.pidfd_open = late
    child = forks.fork()
    if child is None:
        os._exit(0)
    pid = child.pid
    child.stop()
    signalled = bool(select.select([stranger[1]], [], [], 0.5)[0])
    try:
        os.kill(stranger[0], signal.SIGKILL)
    except ProcessLookupError:  # the SIGTERM ended it (and this init process reaped it)
        pass
    print(pid, stranger[0], signalled)
""")


def _pid_namespace() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-pf", "--mount-proc", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _pid_namespace(), reason="needs a pid namespace (unshare, as root)")
def test_a_child_that_ends_before_it_is_held_keeps_its_pid_from_strangers() -> None:
    """With SIGCHLD ignored, a child ending between fork and pidfd_open would be reaped at
    once and its pid free for another process, which stop() would then signal."""
    out = subprocess.run(["unshare", "-pf", "--mount-proc", sys.executable, "-c", RACE],
                         capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
    pid, other, signalled = out.split()
    assert pid != "0", "the child was reaped before it was held"
    assert other != pid and signalled == "False"
