"""Precompute makes real drafts only: never the offline link, nothing at all
without a key or base URL, and `codetier spend` counts only real drafts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import git

from codetier import config, engine, ledger, registry
from codetier.daemon import ledger_rows
from codetier.daemon.methods import State
from codetier.daemon.precompute import draft_commit_message


def staged_repo(repo: Path) -> Path:
    (repo / "greet.py").write_text("def greet():\n    return 'hi'\n")
    git(repo, "add", "greet.py")
    return repo


def attempts() -> list[tuple[object, ...]]:
    db = ledger.connect()
    try:
        return db.execute("SELECT source, provider, outcome, cache_key FROM attempts").fetchall()
    finally:
        db.close()


def draft(repo: Path) -> str | None:
    cfg = config.load(repo)
    ctx = engine.Context(source="daemon", repo=str(repo), cache_key="k1")
    return draft_commit_message(repo, cfg, registry.build(cfg), ctx, lambda: False)


def test_no_key_makes_no_draft_and_no_ledger_row(repo: Path) -> None:
    assert draft(staged_repo(repo)) is None
    assert attempts() == []


def test_no_key_a_staged_change_starts_no_draft(repo: Path) -> None:
    calls: list[object] = []

    def drafter(*args: object) -> str | None:
        calls.append(args[0])
        return "x"

    state = State(drafter)
    state.changed(str(staged_repo(repo)))
    assert state.precompute.busy() == 0
    assert calls == []


def test_an_unreachable_api_never_runs_the_offline_link(repo: Path, dead_api: None) -> None:
    from codetier.errors import CodetierError

    with pytest.raises(CodetierError):
        draft(staged_repo(repo))
    rows = attempts()
    assert rows and all(provider != "offline" for _, provider, _, _ in rows)
    db = ledger.connect()
    try:
        w = ledger_rows.waste(db, dt.date.today())
    finally:
        db.close()
    assert (w.drafts, w.wasted) == (0, 0)


def test_waste_ignores_offline_rows_an_older_daemon_recorded(repo: Path) -> None:
    db = ledger.connect()
    try:
        for n in (1, 2):
            ledger.record(
                db,
                ledger.Row(
                    ts=dt.datetime.now(dt.UTC),
                    source="daemon",
                    request_id=f"ct_{n}",
                    attempt=1,
                    task="commit_message",
                    tier="tool",
                    provider="offline",
                    outcome="ok",
                    cache_key=f"k{n}",
                ),
            )
        w = ledger_rows.waste(db, dt.date.today())
    finally:
        db.close()
    assert (w.drafts, w.used, w.wasted) == (0, 0, 0)
