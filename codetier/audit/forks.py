"""Forked helpers of an audit: when forking is safe, and reaping a child whatever the
parent's SIGCHLD disposition."""

from __future__ import annotations

import contextlib
import os
import signal
import sys


def safe() -> bool:
    """Linux with no other thread: a thread holding a lock at fork time leaves the child
    stuck on it."""
    threading = sys.modules.get("threading")
    return sys.platform == "linux" and not (threading and threading.active_count() > 1)


def reap(pid: int) -> int | None:
    """Wait for a child: its wait status, or None when the system reaped it already
    (SIGCHLD ignored, as some launchers leave it, which survives exec)."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def stop(pid: int) -> None:
    """End a child (gone already when it finished) and reap it."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    reap(pid)
