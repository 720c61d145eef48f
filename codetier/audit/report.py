"""The audit report from the audit tables, and `--import` into the ledger.

Per day and model: tokens and cost in ccusage's terms (input, output, cache
creation = 5m + 1h writes, cache read). Then the routing audit: what each
day would have cost with every usage entry priced at the model of the tier
the router picks for the prompt that started it (same tokens, cache reads
as cache reads), and the chores that ran on the most expensive model.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codetier.registry import Registry

SCHEMA = "codetier.audit/1"
SOURCE = "claude-code"
ROUTING_RULE = (
    "each usage entry is re-priced, same tokens (cache reads as cache reads, cache writes as"
    " cache writes), at the model of the tier the router picks for the user prompt that started"
    " it; tool-tier chores are priced at the fast model, not $0. Cheaper models may need more"
    " turns or tokens: treat it as an estimate, not a promise"
)


def _since(since: dt.date | None) -> tuple[str, list[Any]]:
    return ("day >= ?", [since.isoformat()]) if since else ("1", [])


def daily(db: sqlite3.Connection, since: dt.date | None = None) -> list[dict[str, Any]]:
    """Per day, per model: tokens and cost (what ccusage's `daily --json` reports)."""
    w, args = _since(since)
    sql = f"""SELECT day, model, SUM(input), SUM(output), SUM(cw), SUM(cr), SUM(cost), SUM(routed),
                     SUM(entries) FROM audit_rollup WHERE {w} GROUP BY day, model ORDER BY day, model"""
    days: dict[str, dict[str, Any]] = {}
    for day, model, n_in, n_out, cw, cr, cost, routed, n in db.execute(sql, args):
        d = days.setdefault(
            day,
            {
                "day": day,
                "entries": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_tokens": 0,
                "cache_read_tokens": 0,
                "cost_micros": 0,
                "routed_cost_micros": 0,
                "models": [],
            },
        )
        m = {
            "model": model,
            "entries": n,
            "input_tokens": n_in,
            "output_tokens": n_out,
            "cache_creation_tokens": cw,
            "cache_read_tokens": cr,
            "cost_micros": cost,
            "routed_cost_micros": routed,
        }
        d["models"].append(m)
        for k, v in m.items():
            if k != "model":
                d[k] += v
    return list(days.values())


def _tiers(db: sqlite3.Connection, since: dt.date | None) -> list[dict[str, Any]]:
    w, args = _since(since)
    sql = f"""SELECT tier, task, SUM(n) FROM audit_prompt_rollup WHERE {w}
              GROUP BY tier, task ORDER BY SUM(n) DESC, task"""
    return [{"tier": tier, "task": task, "prompts": n} for tier, task, n in db.execute(sql, args)]


def _priciest(reg: Registry, models: list[str]) -> str | None:
    priced = []
    for m in models:
        try:
            priced.append((reg.price(m).output, m))
        except Exception:
            continue
    return max(priced)[1] if priced else None


def expensive_chores(db: sqlite3.Connection, reg: Registry, since: dt.date | None) -> dict[str, Any]:
    """Usage on the dearest model that the router would have sent to a cheaper tier."""
    w, args = _since(since)
    models = [m for (m,) in db.execute(f"SELECT DISTINCT model FROM audit_rollup WHERE {w}", args)]
    top = _priciest(reg, [m for m in models])
    if top is None:
        return {"model": None, "chores": []}
    sql = f"""SELECT task, tier, SUM(entries), SUM(cost), SUM(routed) FROM audit_rollup
              WHERE {w} AND model = ? AND tier NOT IN ('', 'deep')
              GROUP BY task, tier ORDER BY SUM(cost) - SUM(routed) DESC LIMIT 10"""
    chores = [
        {"task": task, "tier": tier, "entries": n, "cost_micros": cost, "routed_cost_micros": routed}
        for task, tier, n, cost, routed in db.execute(sql, [*args, top])
    ]
    return {"model": top, "chores": chores}


def build(db: sqlite3.Connection, reg: Registry, stats: Any, since: dt.date | None = None) -> dict[str, Any]:
    days = daily(db, since)
    keys = ("entries", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
            "cost_micros", "routed_cost_micros")  # fmt: skip
    totals = {k: sum(d[k] for d in days) for k in keys}
    return {
        "schema": SCHEMA,
        "since": since.isoformat() if since else None,
        "scan": {
            "files": stats.files,
            "files_read": stats.files_read,
            "bytes": stats.bytes,
            "lines": stats.lines,
            "malformed": stats.malformed,
            "new_entries": stats.entries,
            "duplicates": stats.duplicates,
            "new_prompts": stats.prompts,
            "unpriced_models": list(stats.unpriced),
            "unreadable": list(stats.unreadable),
        },
        "totals": totals,
        "daily": days,
        "routing": {"rule": ROUTING_RULE, "prompts": _tiers(db, since)},
        "expensive_chores": expensive_chores(db, reg, since),
    }


def _tier_of(reg: Registry, model: str) -> str:
    for t in reg.tiers.values():
        if t.model == model:
            return t.name
    for word, tier in (("opus", "deep"), ("sonnet", "balanced"), ("haiku", "fast")):
        if word in model:
            return tier
    return "balanced"


def import_usage(db: sqlite3.Connection, reg: Registry, paths: Sequence[Path]) -> int:
    """Copy usage not imported yet into the ledger (source claude-code); returns the rows added.
    The audit tables keep only keys and sums, so the rows are read again from the transcripts
    (a one-off: an import after that finds nothing pending and reads nothing)."""
    from codetier import ledger, pricing
    from codetier.audit import ingest
    from codetier.audit.lines import storable
    from codetier.ledger.db import begin
    from codetier.ledger.keyruns import IMPORTED, USAGE, KeyRuns, key_hash

    def pending() -> set[int] | None:  # None: all imported
        counted, imported = KeyRuns(db, USAGE), KeyRuns(db, IMPORTED)
        if len(counted) == len(imported):  # imported keys are a subset of the counted
            return None
        return counted.keys() - imported.keys()

    db.execute("BEGIN")  # both kinds from one snapshot
    try:
        todo = pending()
    finally:
        db.execute("COMMIT")
    if todo is None:
        return 0
    rows = [row for row in ingest.entries(paths, reg) if key_hash(row[0]) in todo]
    begin(db)
    try:  # still pending now that the ledger is locked (another import may have run)
        todo = pending() or set()
        rows = [row for row in rows if key_hash(row[0]) in todo]
        del todo
        rows.sort(key=lambda row: (row[1], row[0]))  # by time
        done = [row[0] for row in rows]
        for key, ts, _, session, project, model, _, n_in, n_out, w5, w1, cr, cost, task, _, _ in rows:
            usage = pricing.Usage(n_in, n_out, w5, w1, cr)
            when = dt.datetime.fromisoformat(ts)
            ledger.record(
                db,
                ledger.Row(
                    ts=when,
                    source=SOURCE,
                    request_id=storable(key),
                    attempt=1,
                    task=task or "implement",
                    tier=_tier_of(reg, model),
                    provider="anthropic",
                    outcome="ok",
                    model=storable(model),
                    session=storable(session),
                    repo=storable(project),
                    input_tokens=n_in,
                    output_tokens=n_out,
                    cache_write_5m_tokens=w5,
                    cache_write_1h_tokens=w1,
                    cache_read_tokens=cr,
                    cost_micros=cost,
                    counterfactual_micros=pricing.counterfactual(reg, usage, when.date()),
                ),
            )
        KeyRuns(db, IMPORTED).add({key_hash(k) for k in done})
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(rows)
