"""`python -m codetier.daemon.agent`: the daemon's model worker (a child process).

The daemon never imports the anthropic SDK (~60 MB resident); this process
does the model work for it and exits when the daemon closes its stdin (idle,
drain, or the daemon died). One JSON object per line both ways:

  in:  {"id": 1, "op": "draft", "repo": ..., "request_id": ..., "cache_key": ...}
       {"id": 2, "op": "run", "params": {...}}   (params already checked by the daemon)
       {"op": "cancel", "id": 1}                  (checked before each model attempt)
  out: {"id": 1, "result": ...} or {"id": 1, "error": {"kind": ..., "message": ..., "exit_code": ...}}

Each job runs in its own thread and writes its own ledger rows (the ledger is
safe across processes). On EOF the jobs in flight finish, then it exits.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger("codetier.daemon.agent")


def draft(job: Mapping[str, Any], cancelled: Callable[[], bool]) -> str | None:
    from codetier import engine, registry
    from codetier.daemon import repos
    from codetier.daemon.precompute import draft_commit_message

    repo = str(job["repo"])
    cfg = repos.load_config(repo)
    ctx = engine.Context(
        source="daemon", repo=repo, request_id=str(job["request_id"]), cache_key=job.get("cache_key")
    )
    return draft_commit_message(Path(repo), cfg, registry.build(cfg), ctx, cancelled)


def run(params: Mapping[str, Any]) -> dict[str, Any]:
    """The `run` method's work: route, run the chore, finish its output."""
    from codetier import chores, config, engine, registry, router

    cwd = Path(params.get("cwd") or os.getcwd())
    text = str(params["text"])
    cfg = config.load(cwd)
    reg = registry.build(cfg)
    root = cfg.repo or cwd
    files = tuple(Path(cwd / f).resolve() for f in params.get("files") or [])
    r = router.route(
        text, reg, files=files, task=params.get("task"), tier=params.get("tier"), model=params.get("model")
    )
    ctx = engine.Context(source=str(params.get("source") or "daemon"), repo=str(root))
    chore = chores.get(r.task)
    req = chores.Request(text=text, root=root, files=files)
    result = engine.run(chore.job(req, reg), r, reg, ctx)
    return {
        "request_id": result.request_id,
        "task": r.task,
        "output": chore.finish(req, result),
        "served_by": {"tier": result.link.tier, "model": result.link.model},
        "cost_micros": result.cost_micros,
        "attempts": [a.line() for a in result.attempts],
    }


class Agent:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._write_lock = threading.Lock()
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def reply(self, message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        with self._write_lock:
            self.out.write(line)
            self.out.flush()

    def handle(self, line: str) -> threading.Thread | None:
        job = json.loads(line)
        if job.get("op") == "cancel":
            with self._lock:
                event = self._cancels.get(int(job["id"]))
            if event is not None:
                log.info("job %s: cancel requested", job["id"])
                event.set()
            return None
        job_id = int(job["id"])
        with self._lock:
            self._cancels[job_id] = threading.Event()
        t = threading.Thread(target=self._work, args=(job_id, job), name=f"job {job_id}")
        t.start()
        return t

    def _work(self, job_id: int, job: Mapping[str, Any]) -> None:
        from codetier.daemon.precompute import Cancelled
        from codetier.errors import CodetierError

        with self._lock:
            event = self._cancels[job_id]
        try:
            if job.get("op") == "draft":
                result: Any = draft(job, event.is_set)
            elif job.get("op") == "run":
                result = run(job["params"])
            else:
                raise ValueError(f"unknown op {job.get('op')!r}")
            self.reply({"id": job_id, "result": result})
        except Cancelled:
            self.reply({"id": job_id, "error": {"kind": "Cancelled", "message": "cancelled", "exit_code": 1}})
        except CodetierError as e:
            err = {"kind": type(e).__name__, "message": str(e), "exit_code": e.exit_code}
            self.reply({"id": job_id, "error": err})
        except Exception as e:
            log.exception("job %s crashed", job_id)
            self.reply({"id": job_id, "error": {"kind": "crash", "message": repr(e), "exit_code": 3}})
        finally:
            with self._lock:
                self._cancels.pop(job_id, None)


def main() -> int:
    # The protocol owns the real stdout; anything else printing goes to stderr (the daemon's log).
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the daemon decides when we stop
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s agent: %(message)s")
    from codetier.providers.keys import model_reachable

    if model_reachable():
        import codetier.providers.anthropic  # noqa: F401  (the SDK, before the first job needs it)
    agent = Agent(out)
    threads: list[threading.Thread] = []
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            t = agent.handle(line)
        except (ValueError, KeyError, TypeError) as e:
            log.error("bad message from the daemon: %s", e)
            continue
        threads = [x for x in threads if x.is_alive()]
        if t is not None:
            threads.append(t)
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
