"""The daemon process: a Unix socket, a thread per connection, a clean drain.

SIGTERM (or SIGINT) stops accepting, removes the socket so new clients go
in-process at once, lets in-flight requests and running drafts finish, then
exits. A client that disconnects mid-request costs only its own thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from codetier.daemon import lifecycle, protocol
from codetier.daemon.methods import State, methods

log = logging.getLogger("codetier.daemon")
MAX_LINE = 16 * 1024 * 1024
DRAIN_TIMEOUT = 30.0
LOCK_RETRY_S = 2.0


class Server:
    def __init__(self, listener: socket.socket, path: Path, state: State, idle_minutes: float = 0) -> None:
        self.listener, self.path, self.state = listener, path, state
        self.idle_s = idle_minutes * 60
        self.methods = methods(state, {"socket": str(path)})
        self.stopping = threading.Event()
        self.last_request = time.monotonic()
        self._busy = 0
        self._cond = threading.Condition()
        self._conns: set[socket.socket] = set()

    # -- the accept loop (main thread) --------------------------------------------
    def run(self) -> int:
        wake_r, wake_w = socket.socketpair()
        wake_w.setblocking(False)
        old_fd = signal.set_wakeup_fd(wake_w.fileno())
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ)
        sel.register(wake_r, selectors.EVENT_READ)
        try:
            while not self.stopping.is_set():
                for key, _ in sel.select(self._select_timeout()):
                    if key.fileobj is wake_r:
                        wake_r.recv(512)
                    else:
                        self._accept()
                if self._idle_expired():
                    log.info("idle for %s minutes: shutting down", self.idle_s / 60)
                    break
        finally:
            sel.close()
            signal.set_wakeup_fd(old_fd)
            wake_r.close()
            wake_w.close()
            self._drain()
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s: draining", signal.Signals(signum).name)
        self.stopping.set()

    def _select_timeout(self) -> float | None:
        if not self.idle_s:
            return None
        return max(0.05, self.idle_s - (time.monotonic() - self.last_request))

    def _idle_expired(self) -> bool:
        if not self.idle_s or time.monotonic() - self.last_request < self.idle_s:
            return False
        with self._cond:
            return self._busy == 0 and self.state.precompute.busy() == 0

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with self._cond:
            self._conns.add(conn)
        threading.Thread(target=self._serve, args=(conn,), name="conn", daemon=True).start()

    # -- one connection (its own thread) --------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rb") as stream:
                while True:
                    line = stream.readline(MAX_LINE + 1)
                    if not line:
                        return
                    if len(line) > MAX_LINE:
                        big = protocol.error(None, protocol.INVALID_REQUEST, "request too large")
                        conn.sendall(protocol.encode(big))
                        return
                    if not line.strip():
                        continue
                    reply = self._handle(line)
                    if reply is not None:
                        conn.sendall(reply)
        except OSError:
            pass  # the client went away: nothing to answer
        finally:
            with self._cond:
                self._conns.discard(conn)

    def _handle(self, line: bytes) -> bytes | None:
        with self._cond:
            if self.stopping.is_set():
                return protocol.encode(protocol.error(None, protocol.SHUTTING_DOWN, "the daemon is stopping"))
            self._busy += 1
            self.last_request = time.monotonic()
        try:
            return protocol.handle_line(line, self.methods)
        finally:
            with self._cond:
                self._busy -= 1
                self.last_request = time.monotonic()
                self._cond.notify_all()

    # -- shutdown -------------------------------------------------------------------
    def _drain(self) -> None:
        self.stopping.set()
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.state.watcher.stop()
        deadline = time.monotonic() + DRAIN_TIMEOUT
        with self._cond:
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if not self.state.precompute.drain(max(0.0, deadline - time.monotonic())):
            log.warning("gave up waiting for a draft after %s s", DRAIN_TIMEOUT)
        self.state.worker.stop(max(0.0, deadline - time.monotonic()))
        log.info("stopped")


def _acquire(lock: lifecycle.Lock) -> bool:
    """The lock, retried briefly: a client may hold it for a moment while
    checking for a stale daemon (then the pid file is empty)."""
    deadline = time.monotonic() + LOCK_RETRY_S
    while not lock.try_acquire():
        if lifecycle.read_pid() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def listen(path: Path) -> socket.socket:
    """Bind the socket 0600 from the start (umask), never a moment world-open."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # stale: we hold the lock, so nobody serves on it
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def serve(
    watch: Sequence[str] = (),
    idle_minutes: float = 0,
    state: State | None = None,
    worker_idle_s: float = 300.0,
) -> int:
    """Run the daemon in this process until SIGTERM or idle. Exit 0 also when
    another daemon already serves (it is reported on stderr)."""
    rundir = lifecycle.runtime_dir()
    lock = lifecycle.Lock(rundir / "daemon.pid")
    if not _acquire(lock):
        lock.close()
        pid = lifecycle.read_pid()
        log.info("another daemon is running (pid %s)", pid)
        os.write(2, f"codetier daemon already running (pid {pid})\n".encode())
        return 0
    try:
        lock.write_pid()
        path = rundir / "daemon.sock"
        listener = listen(path)
        server = Server(listener, path, state or State(worker_idle_s=worker_idle_s), idle_minutes)
        for repo in watch:
            try:
                server.methods["watch"]({"repo": repo})
            except Exception as e:
                log.warning("cannot watch %s: %s", repo, e)
        log.info("serving on %s (pid %s)", path, os.getpid())
        return server.run()
    finally:
        lock.clear()
        lock.close()
