"""Starting, finding and stopping the one daemon per user.

The daemon holds an exclusive `flock` on `daemon.pid` in its runtime dir for
as long as it lives, and writes its pid there. So:
  - of two racing starts, exactly one gets the lock; the other exits;
  - the lock file is never deleted (deleting it would let a third start lock
    a different inode); a crashed daemon's lock is released by the kernel;
  - whoever takes the lock with nobody serving may clean a stale socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codetier.daemon import client
from codetier.errors import CodetierError

START_TIMEOUT = 15.0
STOP_TIMEOUT = 45.0
# Variables git sets for a hook that tie a process to one repo or index: a
# daemon started from a hook must not inherit them.
GIT_LOCAL_VARS = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_DIR",
    "GIT_GRAFT_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_WORK_TREE",
)


def runtime_dir() -> Path:
    """The runtime dir, created 0700; refused if someone else owns it."""
    d = Path(client.runtime_dir())
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = d.stat()
    if st.st_uid != os.getuid():
        raise CodetierError(f"{d} belongs to another user: refusing to put the daemon's socket there")
    if st.st_mode & 0o777 != 0o700:
        os.chmod(d, 0o700)
    return d


def lock_path() -> Path:
    return runtime_dir() / client.LOCK_NAME


def socket_path() -> Path:
    return runtime_dir() / client.SOCKET_NAME


def read_pid() -> int | None:
    try:
        text = lock_path().read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class Lock:
    """The daemon's lock file, opened once and held while serving."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def try_acquire(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def write_pid(self) -> None:
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def clear(self) -> None:
        os.ftruncate(self.fd, 0)

    def close(self) -> None:
        os.close(self.fd)  # closing releases the flock


@contextlib.contextmanager
def free_lock() -> Iterator[bool]:
    """Yields True while holding the lock (nobody serving), False if a daemon holds it."""
    lock = Lock(lock_path())
    try:
        yield lock.try_acquire()
    finally:
        lock.close()


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    socket: str
    info: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def status(timeout: float = 2.0) -> Status:
    """Ask the daemon; when it does not answer, tell a starting or wedged one
    (lock held) from a crashed one (lock free: its stale socket is removed)."""
    sock = str(socket_path())
    try:
        info = client.call("status", timeout=timeout)
        return Status(True, int(info.get("pid") or 0) or None, sock, dict(info))
    except (client.Unavailable, client.RpcError):
        pass
    with free_lock() as nobody:
        if nobody:
            stale = Path(sock).exists() or read_pid() is not None
            if stale:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(sock)
                os.truncate(lock_path(), 0)
            return Status(False, None, sock, note="removed a stale socket and pid file" if stale else "")
    pid = read_pid()
    return Status(False, pid, sock, note=f"pid {pid} holds the lock but does not answer (starting or busy)")


# glibc gives each thread that mallocs its own arena; a daemon with a thread
# per connection and per draft keeps ~3.5 MB more resident without this cap.
MALLOC_ENV = {"MALLOC_ARENA_MAX": "2"}


def daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in GIT_LOCAL_VARS}
    return {**MALLOC_ENV, **env}


def launcher(watch: Sequence[str] = ()) -> list[str]:
    args = [sys.executable, "-m", "codetier.daemon", "--detach"]
    for repo in watch:
        args += ["--watch", repo]
    return args


def start(watch: Sequence[str] = ()) -> Status:
    """Start a detached daemon (or find the running one) and wait until it answers."""
    current = status()
    if current.running:
        return current
    proc = subprocess.run(
        launcher(watch),
        env=daemon_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 5,
        check=False,
    )
    now = status()
    if not now.running:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        why = detail[-1] if detail else f"exit status {proc.returncode}"
        raise CodetierError(f"the daemon did not start: {why} (log: {log_path()})")
    return now


def spawn_in_background(watch: Sequence[str] = ()) -> None:
    """Start a daemon without waiting for it (auto_start from a hook or the CLI)."""
    subprocess.Popen(
        launcher(watch),
        env=daemon_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def auto_start(repo: str) -> bool:
    """Start a daemon in the background watching `repo` when the repo's config
    says `daemon.auto_start = true`. Never raises: a hook must not fail here."""
    try:
        from codetier import config, registry

        if not registry.Reader(config.load(Path(repo))).boolean("daemon.auto_start", False):
            return False
        with free_lock() as nobody:
            if not nobody:
                return False  # one is starting (or wedged): don't pile on
        spawn_in_background([repo])
    except Exception:
        return False
    return True


def stop(timeout: float = STOP_TIMEOUT) -> Status:
    """SIGTERM the daemon (it drains in-flight work) and wait for its lock to free."""
    import signal

    current = status()
    if current.pid is None:
        return current
    with contextlib.suppress(ProcessLookupError):
        os.kill(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with free_lock() as nobody:
            if nobody:
                return current
        time.sleep(0.05)
    raise CodetierError(f"the daemon (pid {current.pid}) is still draining after {timeout:.0f} s")


def log_path() -> Path:
    from codetier import paths

    return paths.home() / "daemon.log"
