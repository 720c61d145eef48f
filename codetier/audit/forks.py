"""Forked helpers of an audit: when forking is safe, and a child that can be waited for
and stopped whatever the parent's SIGCHLD disposition."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys


def safe() -> bool:
    """Linux with no other thread: a thread holding a lock at fork time leaves the child
    stuck on it."""
    threading = sys.modules.get("threading")
    return sys.platform == "linux" and not (threading and threading.active_count() > 1)


def fork() -> Child | None:
    """os.fork (OSError when it fails): None in the child, the Child in the parent. SIGCHLD
    is at its default until the child is held, so that one ending at once stays a zombie,
    keeping its pid, until then (with it ignored, the system would reap it at once)."""
    was = signal.getsignal(signal.SIGCHLD)
    if was == signal.SIG_IGN:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        pid = os.fork()
        return Child(pid) if pid else None
    finally:
        if was == signal.SIG_IGN:  # the same in the child; restoring it reaps no zombie on Linux
            signal.signal(signal.SIGCHLD, was)


class Child:
    """A forked child (see fork). With SIGCHLD ignored (as some launchers leave it, and it
    survives exec) the system reaps a child as it ends, and its pid may go to another
    process: so the child is held by a pidfd (Linux 5.3), and waited for and signalled
    through it, never by pid alone."""

    __slots__ = ("_pidfd", "pid")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd: int | None = None  # None: no pidfd, see stop()
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError as e:
            if e.errno == errno.ESRCH:  # ended and reaped already: nothing to wait for
                self.pid = 0
        except AttributeError:  # a Python built without it
            pass

    def wait(self) -> int | None:
        """Wait for the child to end: its exit code (minus the signal that ended it), or
        None when the system reaped it (its status is lost). Cut short (Ctrl-C), the child
        is still held, for stop()."""
        if not self.pid:
            return None
        try:
            try:
                done = os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED) if self._pidfd is not None else None
            except OSError as e:  # Linux 5.3 has pidfds, but waits on them only from 5.4
                if e.errno != errno.EINVAL:
                    raise
                done = None
            if done is None:
                code: int | None = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            else:
                code = done.si_status if done.si_code == os.CLD_EXITED else -done.si_status
        except ChildProcessError:
            code = None
        if self._pidfd is not None:
            os.close(self._pidfd)
        self.pid, self._pidfd = 0, None
        return code

    def stop(self) -> None:
        """End the child (gone already when it finished) and reap it."""
        if not self.pid:
            return
        with contextlib.suppress(OSError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGTERM)
            elif signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN:  # its pid is ours till reaped
                os.kill(self.pid, signal.SIGTERM)
            # else: unsafe to signal by pid; the child ends by itself once its pipe is closed
        self.wait()
