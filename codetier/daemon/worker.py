"""The daemon's side of its one model worker (`codetier.daemon.agent`).

The worker is started on demand, gets jobs as JSON lines on its stdin and
answers on its stdout, and is retired (stdin closed: it finishes in-flight
jobs and exits) after `daemon.worker_idle_s` seconds without a job. The
daemon decides idleness, not the worker, so a job can never be sent to a
worker that is just exiting. A worker that dies fails its jobs with
`WorkerDied` and is replaced on the next job.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from codetier.errors import CodetierError

log = logging.getLogger("codetier.daemon")
CANCEL_POLL_S = 0.05


class WorkerDied(CodetierError):
    """The model worker exited (or was killed) before answering."""


class RemoteError(CodetierError):
    """A codetier error raised in the worker, with its kind and exit code."""

    def __init__(self, kind: str, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.remote_kind, self.exit_code = kind, exit_code


@dataclass
class _Pending:
    pid: int  # the worker it was sent to: only that worker's exit fails it
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None


class Worker:
    def __init__(self, idle_s: float = 300.0, command: list[str] | None = None) -> None:
        self.idle_s = idle_s
        self.command = command or [sys.executable, "-m", "codetier.daemon.agent"]
        self._proc: subprocess.Popen[str] | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._last = time.monotonic()
        self._closed = False
        self._reaper: threading.Thread | None = None
        self.started = 0
        self.died = 0

    # -- jobs -------------------------------------------------------------------------
    def call(self, job: dict[str, Any], cancelled: Callable[[], bool] | None = None) -> Any:
        """Send one job and wait for its answer. With `cancelled`, a cancel is
        sent to the worker once it turns true (the job stops before its next
        model attempt)."""
        with self._cond:
            if self._closed:
                raise WorkerDied("the daemon is stopping")
            proc = self._ensure()
            job_id = next(self._ids)
            pending = self._pending[job_id] = _Pending(proc.pid)
            try:
                self._send(proc, {**job, "id": job_id})
            except OSError:
                self._pending.pop(job_id, None)
                raise WorkerDied(f"the model worker (pid {proc.pid}) is gone") from None
        try:
            sent_cancel = False
            while not pending.done.wait(CANCEL_POLL_S if cancelled else None):
                if cancelled is not None and not sent_cancel and cancelled():
                    sent_cancel = True
                    with self._cond, contextlib.suppress(OSError):
                        self._send(proc, {"op": "cancel", "id": job_id})
        finally:
            with self._cond:
                self._pending.pop(job_id, None)
                self._last = time.monotonic()
                self._cond.notify_all()
        reply = pending.reply
        if reply is None:
            raise WorkerDied(f"the model worker (pid {proc.pid}) exited before answering")
        if "error" in reply:
            err = reply["error"] or {}
            raise RemoteError(str(err.get("kind")), str(err.get("message")), int(err.get("exit_code", 1)))
        return reply.get("result")

    def _send(self, proc: subprocess.Popen[str], message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    # -- the process ------------------------------------------------------------------
    def _ensure(self) -> subprocess.Popen[str]:
        """The running worker, started if needed (called holding the condition)."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,  # a ^C at a foreground daemon is the daemon's to handle
        )
        self._proc, self.started = proc, self.started + 1
        log.info("started the model worker (pid %s)", proc.pid)
        assert proc.stdout is not None
        threading.Thread(target=self._read, args=(proc, proc.stdout), name="worker-read", daemon=True).start()
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap, name="worker-idle", daemon=True)
            self._reaper.start()
        return proc

    def warm(self) -> None:
        """Start the worker now (off the request path) so the first draft is not cold."""

        def start() -> None:
            with self._cond:
                if not self._closed:
                    self._ensure()
                    self._last = time.monotonic()

        threading.Thread(target=start, name="worker-warm", daemon=True).start()

    def _read(self, proc: subprocess.Popen[str], stream: IO[str]) -> None:
        for line in stream:
            try:
                reply = json.loads(line)
                with self._cond:
                    pending = self._pending.get(int(reply["id"]))
            except (ValueError, KeyError, TypeError):
                log.warning("the model worker sent a line that is not a reply: %r", line[:200])
                continue
            if pending is not None:
                pending.reply = reply
                pending.done.set()
        code = proc.wait()
        with self._cond:
            if self._proc is proc:  # not retired by us: it died
                self._proc = None
                self.died += 1
                log.warning("the model worker (pid %s) died (exit %s); a new one starts on the next job",
                            proc.pid, code)  # fmt: skip
            else:
                log.info("the model worker (pid %s) exited", proc.pid)
            for pending in self._pending.values():
                if pending.pid == proc.pid and pending.reply is None:
                    pending.done.set()  # answered by nothing: WorkerDied
            self._cond.notify_all()

    def _reap(self) -> None:
        with self._cond:
            while not self._closed:
                if self._proc is None or self._pending:
                    self._cond.wait()
                    continue
                left = self._last + self.idle_s - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                log.info("the model worker was idle %s s: stopping it", self.idle_s)
                self._retire()

    def _retire(self) -> subprocess.Popen[str] | None:
        """Close the worker's stdin (called holding the condition): it finishes and exits."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        return proc

    def stop(self, timeout: float) -> None:
        """Let jobs in flight finish (up to `timeout`), then stop the worker; kill it at the deadline."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            while self._pending and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            proc = self._retire()
            self._cond.notify_all()
        if proc is None:
            return
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("the model worker (pid %s) did not finish in time: killing it", proc.pid)
            proc.kill()
            proc.wait()

    def status(self) -> dict[str, Any]:
        with self._cond:
            up = self._proc is not None and self._proc.poll() is None
            return {
                "up": up,
                "pid": self._proc.pid if up and self._proc is not None else None,
                "jobs": len(self._pending),
                "started": self.started,
                "died": self.died,
                "idle_s": self.idle_s,
            }
