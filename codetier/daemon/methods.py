"""The daemon's JSON-RPC methods: ping, status, watch, draft, route, run, spend, audit.

Every method reads config at call time for the repo it is about, so a daemon
started in one repo serves another with that repo's settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codetier import __version__, config, ledger, output, registry
from codetier.daemon import client, ledger_rows, repos
from codetier.daemon.cache import DraftCache
from codetier.daemon.precompute import Cancelled, Drafter, Precomputer
from codetier.daemon.protocol import ELSEWHERE, INVALID_PARAMS, Handler, RpcFailure, param
from codetier.daemon.watcher import Watcher
from codetier.daemon.worker import RemoteError, Worker
from codetier.engine import Context
from codetier.providers.keys import model_reachable

log = logging.getLogger("codetier.daemon")


class State:
    """Everything the daemon keeps between requests. Model work (drafts, `run`)
    goes to the one worker process, so this process never imports the SDK."""

    def __init__(self, drafter: Drafter | None = None, worker_idle_s: float = 300.0) -> None:
        self.started = time.time()
        self.cache = DraftCache()
        self.worker = Worker(worker_idle_s)
        self.precompute = Precomputer(self.cache, drafter or self.draft_in_worker)
        self.watcher = Watcher(self.changed)
        self.hits = 0
        self._last: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self.audit_lock = threading.Lock()  # one audit at a time here
        self.audits = 0  # answered here, not refused

    def draft_in_worker(
        self,
        repo: Path,
        cfg: config.Config,
        reg: registry.Registry,
        ctx: Context,
        cancelled: Callable[[], bool],
    ) -> str | None:
        """The drafter: `precompute.draft_commit_message` run in the worker,
        which loads the same config for the repo and writes the ledger rows."""
        job = {"op": "draft", "repo": str(repo), "request_id": ctx.request_id, "cache_key": ctx.cache_key}
        try:
            result = self.worker.call(job, cancelled)
        except RemoteError as e:
            if e.remote_kind == "Cancelled":
                raise Cancelled from None
            raise
        return result if isinstance(result, str) else None

    def changed(self, repo: str) -> None:
        """A debounced change under the repo's git dir: draft if the staged change is new."""
        staged = client.staged_hash(repo)
        with self._lock:
            if self._last.get(repo) == staged:
                return
            self._last[repo] = staged
        # no key, no base URL: nothing but an offline draft could come out, and the hook makes that itself
        if staged is not None and model_reachable() and self.precompute.enabled(repo):
            self.precompute.submit(repo, staged)

    def watch(self, repo: str, seen: str | None = None) -> bool:
        """Watch a repo. With `seen` (the staged hash a hook is about to handle
        in-process) that change is not drafted again; otherwise whatever is
        staged now is drafted."""
        if seen is not None:
            with self._lock:
                self._last.setdefault(repo, seen)
        new = self.watcher.watch(repo)
        if new:
            if model_reachable() and self.precompute.enabled(repo):
                self.worker.warm()  # the worker imports the SDK now, not at the first draft
            if seen is None:
                threading.Thread(target=self.watcher.fire, args=(repo,), daemon=True).start()
        return new


def methods(state: State, extra_status: Mapping[str, Any]) -> dict[str, Handler]:
    def ping(params: Mapping[str, Any]) -> str:
        return "pong"

    def status(params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **extra_status,
            "version": __version__,
            "pid": os.getpid(),
            "uptime_s": round(time.time() - state.started, 1),
            "repos": state.watcher.repos(),
            "cache": state.cache.stats(),
            "drafting": state.precompute.busy(),
            "drafted": state.precompute.drafted,
            "hits": state.hits,
            "audits": state.audits,
            "worker": state.worker.status(),
            "sdk_loaded": "anthropic" in sys.modules,  # never, in the daemon: the worker has it
        }

    def watch(params: Mapping[str, Any]) -> dict[str, Any]:
        repo = repos.toplevel(param(params, "repo", str))
        new = state.watch(repo)
        return {"repo": repo, "new": new, "precompute": state.precompute.enabled(repo)}

    def draft(params: Mapping[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        repo = repos.toplevel(param(params, "repo", str))
        staged = param(params, "staged", str)
        source = param(params, "source", str, "hook")
        wait = float(param(params, "wait", (int, float), 0))
        state.watch(repo, seen=staged)  # a repo registers on first use
        found = state.precompute.lookup(repo, staged)
        if found is None and wait > 0 and state.precompute.enabled(repo):
            # Someone is waiting at `git commit`: draft now with the warm client.
            state.precompute.ensure(repo, staged)
            state.precompute.wait(repo, staged, wait)
            found = state.precompute.lookup(repo, staged)
        if found is None:
            return {"message": None}
        k, hit = found
        db = ledger.connect()
        try:
            row = ledger_rows.record_hit(db, hit.row_id, k, source, round((time.perf_counter() - t0) * 1000))
        finally:
            db.close()
        state.hits += 1
        return {"message": hit.message, "parent_id": hit.row_id, "row_id": row}

    def route(params: Mapping[str, Any]) -> dict[str, Any]:
        from codetier import router

        cwd = Path(param(params, "cwd", str, os.getcwd()))
        text = param(params, "text", str)
        reg = registry.build(config.load(cwd))
        named = [*param(params, "files", list, []), *router.files_in_text(text, cwd)]
        files = tuple(dict.fromkeys((cwd / str(f)).resolve() for f in named))
        return router.describe(router.route(text, reg, files=files))

    def run(params: Mapping[str, Any]) -> Any:
        checked = {
            "cwd": param(params, "cwd", str, os.getcwd()),
            "text": param(params, "text", str),
            "files": [str(f) for f in param(params, "files", list, [])],
            "task": param(params, "task", str, None),
            "tier": param(params, "tier", str, None),
            "model": param(params, "model", str, None),
            "source": param(params, "source", str, "daemon"),
        }
        return state.worker.call({"op": "run", "params": checked})

    def spend(params: Mapping[str, Any]) -> dict[str, Any]:
        from codetier.ledger import reports

        raw = param(params, "day", str, dt.date.today().isoformat())
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise RpcFailure(INVALID_PARAMS, f"parameter 'day': expected YYYY-MM-DD, got {raw!r}") from None
        db = ledger.connect()
        try:
            return reports.day_summary(db, day)
        finally:
            db.close()

    def audit(params: Mapping[str, Any]) -> Any:
        """A plain `codetier audit` for a client in the same environment (time zone, config,
        ledger) and version; anything else is refused and the client runs it itself. So is a
        read of PARALLEL_BYTES or more, which the CLI parses on every core with forked readers
        (a process with threads must not fork), and an audit while another runs here."""
        from codetier.audit import ingest, pipeline, workers

        if param(params, "version", str) != __version__ or param(params, "env", dict) != client.audit_env():
            raise RpcFailure(ELSEWHERE, "another version or environment: run the audit in-process")
        roots = [Path(p) for p in param(params, "paths", list)]
        if not all(p.is_absolute() for p in roots):
            raise RpcFailure(INVALID_PARAMS, "parameter 'paths': expected absolute paths")
        since = param(params, "since", str, None)
        try:
            day = dt.date.fromisoformat(since) if since else None
        except ValueError:
            raise RpcFailure(
                INVALID_PARAMS, f"parameter 'since': expected YYYY-MM-DD, got {since!r}"
            ) from None
        reg = registry.build(config.load(Path(param(params, "cwd", str))))
        if not state.audit_lock.acquire(blocking=False):  # never queue a client behind another
            raise RpcFailure(ELSEWHERE, "another audit is running here: run this one in-process")
        try:
            data = pipeline.audit(roots, day, reg, limit=workers.PARALLEL_BYTES)
            state.audits += 1
        except ingest.TooMuch as e:
            raise RpcFailure(ELSEWHERE, f"{e}: run the audit in-process") from None
        finally:
            state.audit_lock.release()
        return output.json_text(data) if param(params, "text", bool, False) else data

    return {
        "ping": ping,
        "status": status,
        "watch": watch,
        "draft": draft,
        "route": route,
        "run": run,
        "spend": spend,
        "audit": audit,
    }
