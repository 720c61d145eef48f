"""The draft cache, the precompute worker (one draft per repo, newer cancels
older), and the ledger rows that link cache hits to their precompute."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git
from daemon_support import wait_for

from codetier import config, engine, ledger, registry
from codetier.daemon import client, ledger_rows
from codetier.daemon.cache import Draft, DraftCache, key
from codetier.daemon.precompute import Cancelled, Precomputer


def test_cache_drops_the_least_recently_used_past_its_entry_bound() -> None:
    cache = DraftCache(max_entries=2)
    cache.put("a", Draft("A", 1, "/r"))
    cache.put("b", Draft("B", 2, "/r"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", Draft("C", 3, "/r"))
    assert cache.get("b") is None
    assert [cache.get(k).message for k in ("a", "c")] == ["A", "C"]  # type: ignore[union-attr]


def test_cache_is_bounded_in_bytes() -> None:
    cache = DraftCache(max_entries=100, max_bytes=10)
    cache.put("a", Draft("12345", 1, "/r"))
    cache.put("b", Draft("67890", 2, "/r"))
    cache.put("c", Draft("x", 3, "/r"))
    assert cache.get("a") is None and cache.stats()["bytes"] <= 10
    cache.put("huge", Draft("x" * 11, 4, "/r"))
    assert cache.get("huge") is None


def test_key_changes_with_the_staged_change_and_with_the_settings() -> None:
    base = key("abc", {"tiers": {"fast": "claude-haiku-5-5"}})
    assert base == key("abc", {"tiers": {"fast": "claude-haiku-5-5"}})
    assert base != key("abd", {"tiers": {"fast": "claude-haiku-5-5"}})
    assert base != key("abc", {"tiers": {"fast": "claude-sonnet-5-5"}})


class GatedDrafter:
    """Drafts that wait for the test to release them; records concurrency."""

    def __init__(self) -> None:
        self.release: dict[str, threading.Event] = {}
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def __call__(
        self,
        repo: Path,
        cfg: config.Config,
        reg: registry.Registry,
        ctx: engine.Context,
        cancelled: Callable[[], bool],
    ) -> str | None:
        staged = client.staged_hash(str(repo)) or ""
        gate = self.release.setdefault(staged, threading.Event())
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.started.append(staged)
        try:
            gate.wait(20)
            if cancelled():  # what the real drafter checks before each attempt
                self.cancelled.append(staged)
                raise Cancelled
            db = ledger.connect()
            now = dt.datetime.now(dt.UTC)
            row = ledger.Row(now, "daemon", ctx.request_id, 1, "commit_message", "fast", "anthropic", "ok")
            ledger.record(
                db, row.__class__(**{**row.__dict__, "cost_micros": 70, "cache_key": ctx.cache_key})
            )
            db.close()
            return f"draft for {staged[:8]}"
        finally:
            with self.lock:
                self.active -= 1


def stage(repo: Path, name: str, body: str) -> str:
    (repo / name).write_text(body)
    git(repo, "add", name)
    staged = client.staged_hash(str(repo))
    assert staged is not None
    return staged


def test_a_newer_staged_change_cancels_the_running_draft(repo: Path) -> None:
    drafter = GatedDrafter()
    cache = DraftCache()
    pre = Precomputer(cache, drafter)
    first = stage(repo, "a.py", "a = 1\n")
    pre.submit(str(repo), first)
    wait_for(lambda: drafter.started == [first], what="the first draft to start")
    second = stage(repo, "b.py", "b = 2\n")
    pre.submit(str(repo), second)
    third = stage(repo, "c.py", "c = 3\n")
    pre.submit(str(repo), third)  # replaces `second`, which never starts
    drafter.release.setdefault(first, threading.Event()).set()
    drafter.release.setdefault(third, threading.Event()).set()
    wait_for(lambda: pre.lookup(str(repo), third), what="the newest draft")
    assert pre.drain(20)
    assert drafter.started == [first, third]
    assert drafter.cancelled == [first]
    assert drafter.max_active == 1
    assert pre.lookup(str(repo), first) is None
    found = pre.lookup(str(repo), third)
    assert found is not None and found[1].message == f"draft for {third[:8]}"


def test_a_draft_for_a_change_that_moved_on_is_not_cached(repo: Path) -> None:
    drafter = GatedDrafter()
    pre = Precomputer(DraftCache(), drafter)
    first = stage(repo, "a.py", "a = 1\n")
    pre.submit(str(repo), first)
    wait_for(lambda: drafter.started == [first], what="the draft to start")
    stage(repo, "a.py", "a = 2\n")  # the index moved, but nobody told the worker
    drafter.release[first].set()
    assert pre.drain(20)
    assert pre.lookup(str(repo), first) is None and pre.drafted == 0


def test_record_hit_links_the_precompute_row_at_no_cost() -> None:
    db = ledger.connect()
    now = dt.datetime.now(dt.UTC)
    parent = ledger.record(
        db,
        ledger.Row(now, "daemon", "ct_1", 1, "commit_message", "fast", "anthropic", "ok",
                   model="claude-haiku-5-5", cost_micros=90, cache_key="k1", repo="/r"),
    )  # fmt: skip
    hit = ledger_rows.record_hit(db, parent, "k1", "hook", 3)
    found = db.execute(
        "SELECT outcome, cost_micros, parent_id, cache_key, tier, model, repo, source FROM attempts WHERE id = ?",
        (hit,),
    ).fetchone()
    assert found == ("cache_hit", 0, parent, "k1", "fast", "claude-haiku-5-5", "/r", "hook")
    with pytest.raises(LookupError):
        ledger_rows.record_hit(db, 9999, "k", "hook", 0)


def test_waste_counts_every_attempt_of_unused_drafts() -> None:
    db = ledger.connect()
    now = dt.datetime.now(dt.UTC)

    def row(request: str, attempt: int, outcome: str, cost: int, key: str | None = "k") -> int:
        r = ledger.Row(now, "daemon", request, attempt, "commit_message", "fast", "anthropic", outcome,
                       cost_micros=cost, cache_key=key)  # fmt: skip
        return ledger.record(db, r)

    row("used", 1, "check_failed", 10)
    used_ok = row("used", 2, "ok", 20)
    row("unused", 1, "provider_error", 0)
    row("unused", 2, "ok", 30)
    row("not-a-draft", 1, "ok", 500, key=None)
    ledger_rows.record_hit(db, used_ok, "k", "hook", 1)
    w = ledger_rows.waste(db, now.astimezone().date())
    assert w == ledger_rows.Waste(drafts=2, used=1, wasted=1, wasted_micros=30, spent_micros=60)
    assert ledger_rows.waste(db, dt.date(2000, 1, 1)).drafts == 0
