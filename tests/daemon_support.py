"""Running a real daemon process in tests, and waiting on conditions with a deadline."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from codetier.daemon import client


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `condition` until it is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class DaemonProcess:
    """`python -m codetier.daemon` in the foreground, owned by the test."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codetier.daemon", *args],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._out,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ready(self, timeout: float = 20.0) -> DaemonProcess:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.log.read_text()}")
            return client.running(timeout=0.5)

        wait_for(up, timeout, "the daemon to answer")
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()


@contextlib.contextmanager
def running_daemon(log: Path, *args: str) -> Iterator[DaemonProcess]:
    d = DaemonProcess(log, *args)
    try:
        yield d.ready()
    finally:
        d.stop()


def kill_detached() -> None:
    """Kill a daemon started detached (by the CLI or auto_start), if any."""
    from codetier.daemon import lifecycle

    pid = lifecycle.read_pid()
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        wait_for(lambda: not _alive(pid), 10, f"pid {pid} to die")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


def raw(lines: list[bytes], timeout: float = 10.0) -> list[Any]:
    """Send raw lines on one connection; read one reply per line that expects one."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(client.socket_path())
        replies = []
        stream = sock.makefile("rb")
        for line in lines:
            sock.sendall(line)
            replies.append(json.loads(stream.readline()))
        return replies
