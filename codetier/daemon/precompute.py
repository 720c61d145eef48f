"""Drafting commit messages in the background, before git asks.

One worker per repo at most: a newer staged change replaces any waiting one
and cancels the running draft (between attempts: no further link is called,
and its result is not cached). A draft is cached only if the staged change is
still the one it was made for.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import config, engine, ledger, registry
from codetier.daemon import client, ledger_rows, repos
from codetier.daemon.cache import Draft, DraftCache, key
from codetier.engine import Link
from codetier.errors import CodetierError
from codetier.providers.base import Call
from codetier.providers.keys import model_reachable

log = logging.getLogger("codetier.daemon")
TASK = "commit_message"


class Cancelled(Exception):
    """A newer staged change made this draft pointless."""


def draft_commit_message(
    repo: Path, cfg: config.Config, reg: registry.Registry, ctx: engine.Context, cancelled: Callable[[], bool]
) -> str | None:
    """The commit-message chore exactly as `commit_message.compose` runs it for
    the hook, with the daemon's context (source, cache key) and a cancel
    check before each attempt. None when only the offline draft came out:
    the hook makes that itself in milliseconds, and says why."""
    from codetier.chores import commit_message as cm

    if not model_reachable():
        return None
    route = cm.route_for(reg)
    links = tuple(link for link in route.links if link.model is not None)
    if not links:  # never the offline link: the hook writes that itself, and it is no draft
        return None
    route = dataclasses.replace(route, tier=links[0].tier, links=links)
    job = cm.job_for(cm.gather(repo), reg, cm.diff_budget(cfg))

    def build(link: Link, failures: Sequence[str]) -> Call:
        if cancelled():
            raise Cancelled
        return job.build(link, failures)

    result = engine.run(dataclasses.replace(job, build=build), route, reg, ctx)
    return str(result.value) if result.link.model is not None else None


Drafter = Callable[[Path, config.Config, registry.Registry, engine.Context, Callable[[], bool]], str | None]


@dataclass
class _Repo:
    wanted: str | None = None  # the newest staged hash not yet drafted
    current: str | None = None  # the staged hash being drafted now
    generation: int = 0
    running: bool = False


class Precomputer:
    def __init__(self, cache: DraftCache, drafter: Drafter = draft_commit_message) -> None:
        self.cache, self.drafter = cache, drafter
        self._repos: dict[str, _Repo] = {}
        self._cond = threading.Condition()
        self.drafted = 0

    def enabled(self, repo: str) -> bool:
        cfg = repos.load_config(repo)
        return registry.Reader(cfg).boolean("daemon.precompute", True)

    def submit(self, repo: str, staged: str) -> None:
        """Draft for this staged change, replacing whatever was pending."""
        with self._cond:
            state = self._repos.setdefault(repo, _Repo())
            state.wanted = staged
            state.generation += 1
            if state.running:
                return  # the worker picks it up; the running draft sees a newer generation
            state.running = True
        threading.Thread(target=self._work, args=(repo, state), name=f"draft {repo}", daemon=True).start()

    def _work(self, repo: str, state: _Repo) -> None:
        while True:
            with self._cond:
                staged, state.wanted = state.wanted, None
                state.current = staged
                if staged is None:
                    state.running = False
                    self._cond.notify_all()
                    return
                generation = state.generation
            try:
                self._draft(repo, staged, lambda g=generation: state.generation != g)  # type: ignore[misc]
            except Cancelled:
                log.info("draft for %s cancelled by a newer staged change", repo)
            except CodetierError as e:
                log.warning("draft for %s failed: %s", repo, e)
            except Exception:
                log.exception("draft for %s crashed", repo)
            with self._cond:
                state.current = None
                self._cond.notify_all()

    def _draft(self, repo: str, staged: str, cancelled: Callable[[], bool]) -> None:
        cfg = repos.load_config(repo)
        if not registry.Reader(cfg).boolean("daemon.precompute", True):
            return
        reg = registry.build(cfg)
        k = key(staged, cfg.data)
        if self.cache.get(k) is not None:
            return
        ctx = engine.Context(source="daemon", repo=repo, cache_key=k)
        message = self.drafter(Path(repo), cfg, reg, ctx, cancelled)
        if message is None:
            return
        if cancelled() or client.staged_hash(repo) != staged:
            log.info("discarded a draft for %s: the staged change moved on", repo)
            return
        db = ledger.connect()
        try:
            row = ledger_rows.ok_row(db, ctx.request_id)
        finally:
            db.close()
        if row is not None:
            self.cache.put(k, Draft(message, row, repo))
            self.drafted += 1
            log.info("drafted a commit message for %s", repo)

    def ensure(self, repo: str, staged: str) -> None:
        """Draft this staged change unless it is already being drafted or queued."""
        with self._cond:
            state = self._repos.get(repo)
            if state is not None and staged in (state.current, state.wanted):
                return
        self.submit(repo, staged)

    def wait(self, repo: str, staged: str, timeout: float) -> None:
        """Block until this staged change is no longer queued or being drafted."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                state = self._repos.get(repo)
                if state is None or staged not in (state.current, state.wanted):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def lookup(self, repo: str, staged: str) -> tuple[str, Draft] | None:
        cfg = repos.load_config(repo)
        k = key(staged, cfg.data)
        draft = self.cache.get(k)
        return None if draft is None else (k, draft)

    def busy(self) -> int:
        with self._cond:
            return sum(1 for s in self._repos.values() if s.running)

    def drain(self, timeout: float) -> bool:
        """Wait for running drafts to finish (pending ones are dropped)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for state in self._repos.values():
                state.wanted = None
            while any(s.running for s in self._repos.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True
