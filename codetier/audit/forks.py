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


class Child:
    """A forked child, made in the parent right after the fork. With SIGCHLD ignored (as
    some launchers leave it, and it survives exec) the system reaps a child as it ends, and
    its pid may go to another process: so the child is held by a pidfd (Linux 5.3), and
    waited for and signalled through it, never by pid alone."""

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
            if self._pidfd is None:
                code: int | None = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            else:
                done = os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED)
                assert done is not None  # None only with WNOHANG
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
