"""Summaries read from the ledger: the spend report and what budgets read.

Every figure is computed by SQL over an indexed period, so a year of rows stays
fast; money stays in integer micro-dollars. The JSON shape of `spend_report`
is documented in docs/spend.md (schema "codetier.spend/1").
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TIER_ORDER = ("tool", "fast", "balanced", "deep")
GROUPS = {
    "tier": "tier",
    "task": "task",
    "model": "COALESCE(model, provider)",
    "source": "source",
    "day": "day",
}
SCHEMA = "codetier.spend/1"
ESCALATION_WARN = 0.10
BASELINE_RULE = (
    "baseline = every delivered call's own tokens priced at the deep model: fresh input as input,"
    " cache writes as cache writes and cache reads as cache reads (the deep model would have seen"
    " the same repeated prefix); tool-tier work is priced at its local token estimate;"
    " failed attempts and unused precomputed drafts add no baseline, only cost"
)


@dataclass(frozen=True)
class Scope:
    """Which rows a report covers: a day range, and optionally a repo and a time window."""

    since: dt.date
    until: dt.date
    repo: str | None = None
    ts_from: str | None = None  # a session's first and last row (ISO, inclusive)
    ts_to: str | None = None
    session: str | None = None  # a stored session id (rows that carry one)

    def where(self) -> tuple[str, list[Any]]:
        sql, args = ["day BETWEEN ? AND ?"], [self.since.isoformat(), self.until.isoformat()]
        if self.repo is not None:
            sql.append("repo = ?")
            args.append(self.repo)
        if self.ts_from is not None and self.ts_to is not None:
            sql.append("ts BETWEEN ? AND ?")
            args += [self.ts_from, self.ts_to]
        if self.session is not None:
            sql.append("session = ?")
            args.append(self.session)
        return " AND ".join(sql), args


def _tier_key(name: str) -> tuple[int, str]:
    return (TIER_ORDER.index(name) if name in TIER_ORDER else 99, name)


def _percentile(hist: list[tuple[int, int]], q: float) -> int:
    """Nearest-rank percentile of a sorted (value, count) histogram."""
    total = sum(c for _, c in hist)
    if not total:
        return 0
    rank, seen = max(1, -(-int(q * total * 1000) // 1000)), 0
    for value, count in hist:
        seen += count
        if seen >= rank:
            return value
    return hist[-1][0]


_GROUP_SQL = """
SELECT {g} AS g,
       SUM(outcome != 'budget_refused'), SUM(outcome = 'budget_refused'),
       SUM(input_tokens), SUM(output_tokens), SUM(cache_write_5m_tokens + cache_write_1h_tokens),
       SUM(cache_read_tokens), SUM(cost_micros),
       SUM(CASE WHEN outcome = 'ok' THEN counterfactual_micros ELSE 0 END),
       SUM(CASE WHEN outcome = 'ok' THEN cost_micros ELSE 0 END)
FROM attempts WHERE {w} GROUP BY g
"""
_LATENCY_SQL = """
SELECT {g} AS g, latency_ms, COUNT(*) FROM attempts
WHERE {w} AND outcome IN ('ok', 'check_failed', 'provider_error')
GROUP BY g, latency_ms ORDER BY g, latency_ms
"""
_UNUSED_DRAFTS = """
SELECT {g} AS g, COUNT(*), COALESCE(SUM(cost_micros), 0), COALESCE(SUM(counterfactual_micros), 0)
FROM attempts a
WHERE {w} AND cache_key IS NOT NULL AND outcome = 'ok'
  AND NOT EXISTS (SELECT 1 FROM attempts h WHERE h.parent_id = a.id AND h.outcome = 'cache_hit')
  AND NOT EXISTS (SELECT 1 FROM attempts h WHERE h.cache_key = a.cache_key AND h.outcome = 'cache_hit')
GROUP BY g
"""


def _groups(db: sqlite3.Connection, by: str, scope: Scope) -> list[dict[str, Any]]:
    g = GROUPS[by]
    w, args = scope.where()
    drafts = {k: (n, c, cf) for k, n, c, cf in db.execute(_UNUSED_DRAFTS.format(g=g, w=w), args)}
    hist: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, ms, n in db.execute(_LATENCY_SQL.format(g=g, w=w), args):
        hist[key].append((ms, n))
    out = []
    for key, calls, refused, n_in, n_out, cw, cr, cost, cf_ok, cost_ok in db.execute(
        _GROUP_SQL.format(g=g, w=w), args
    ):
        _, waste, waste_cf = drafts.get(key, (0, 0, 0))
        baseline = (cf_ok or 0) - waste_cf
        delivered = (cost_ok or 0) - waste
        out.append(
            {
                "key": key,
                "calls": calls or 0,
                "refused": refused or 0,
                "input_tokens": n_in or 0,
                "output_tokens": n_out or 0,
                "cache_write_tokens": cw or 0,
                "cache_read_tokens": cr or 0,
                "cost_micros": cost or 0,
                "baseline_micros": baseline,
                "savings_gross_micros": baseline - delivered,
                "savings_net_micros": baseline - (cost or 0),
                "latency_p50_ms": _percentile(hist.get(key, []), 0.50),
                "latency_p95_ms": _percentile(hist.get(key, []), 0.95),
            }
        )
    calls_all = sum(r["calls"] for r in out) or 1
    cost_all = sum(r["cost_micros"] for r in out) or 1
    for r in out:
        r["call_share"] = round(r["calls"] / calls_all, 4)
        r["cost_share"] = round(r["cost_micros"] / cost_all, 4)
    if by == "tier":
        out.sort(key=lambda r: _tier_key(r["key"]))
    elif by == "day":
        out.sort(key=lambda r: r["key"])
    else:
        out.sort(key=lambda r: (-r["cost_micros"], str(r["key"])))
    return out


def _escalation(db: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    w, args = scope.where()
    sql = f"""SELECT task, SUM(attempt = 1), SUM(attempt = 2) FROM attempts
              WHERE {w} AND attempt <= 2 GROUP BY task"""
    tasks = []
    for task, requests, escalated in db.execute(sql, args):
        if requests:
            tasks.append(
                {
                    "task": task,
                    "requests": requests,
                    "escalated": escalated or 0,
                    "rate": round((escalated or 0) / requests, 4),
                }
            )
    tasks.sort(key=lambda t: (-t["rate"], -t["escalated"], t["task"]))
    requests = sum(t["requests"] for t in tasks)
    escalated = sum(t["escalated"] for t in tasks)
    rate = round(escalated / requests, 4) if requests else 0.0
    return {
        "requests": requests,
        "escalated": escalated,
        "rate": rate,
        "threshold": ESCALATION_WARN,
        "warn": rate > ESCALATION_WARN,
        "tasks": tasks,
        "escalating_tasks": [t["task"] for t in tasks if t["escalated"] and t["rate"] > ESCALATION_WARN],
    }


def _cache(db: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    w, args = scope.where()
    hits, drafts, draft_cost = db.execute(
        f"""SELECT SUM(outcome = 'cache_hit'),
                   SUM(cache_key IS NOT NULL AND outcome = 'ok'),
                   SUM(CASE WHEN cache_key IS NOT NULL AND outcome = 'ok' THEN cost_micros ELSE 0 END)
            FROM attempts WHERE {w}""",
        args,
    ).fetchone()
    _, unused, waste, _ = db.execute(_UNUSED_DRAFTS.format(g="1", w=w), args).fetchone() or (1, 0, 0, 0)
    return {
        "hits": hits or 0,
        "precompute": {
            "drafts": drafts or 0,
            "used": (drafts or 0) - (unused or 0),
            "unused": unused or 0,
            "cost_micros": draft_cost or 0,
            "waste_micros": waste or 0,
        },
    }


def _days(db: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    w, args = scope.where()
    days: dict[str, dict[str, int]] = {}
    sql = f"SELECT day, tier, SUM(cost_micros) FROM attempts WHERE {w} GROUP BY day, tier"
    for day, tier, cost in db.execute(sql, args):
        days.setdefault(day, {})[tier] = cost or 0
    out, day = [], scope.since
    while day <= scope.until:
        tiers = days.get(day.isoformat(), {})
        out.append(
            {"day": day.isoformat(), "tiers": dict(sorted(tiers.items(), key=lambda kv: _tier_key(kv[0])))}
        )
        day += dt.timedelta(days=1)
    return out


def spent_by_tier(db: sqlite3.Connection, day: dt.date) -> dict[str, int]:
    """Micro-dollars codetier spent per tier on a local calendar day (budgets read
    this; usage imported from Claude Code is not codetier's and does not count)."""
    sql = """SELECT tier, COALESCE(SUM(cost_micros), 0) FROM attempts
             WHERE day = ? AND source != 'claude-code' GROUP BY tier"""
    return {tier: int(total) for tier, total in db.execute(sql, (day.isoformat(),))}


def budget_status(
    spent: Mapping[str, int],
    daily: int | None,
    per_call: int | None,
    tier_caps: Mapping[str, int],
    mode: str,
    day: dt.date,
) -> dict[str, Any]:
    """What remains today, overall and per capped tier."""

    def left(limit: int | None, used: int) -> dict[str, Any]:
        remaining = None if limit is None else max(limit - used, 0)
        return {"limit_micros": limit, "spent_micros": used, "remaining_micros": remaining}

    return {
        "day": day.isoformat(),
        "mode": mode,
        "per_call_micros": per_call,
        "daily": left(daily, sum(spent.values())),
        "tiers": {
            t: left(cap, spent.get(t, 0))
            for t, cap in sorted(tier_caps.items(), key=lambda kv: _tier_key(kv[0]))
        },
    }


def _sum(rows: Iterable[Mapping[str, Any]], key: str) -> int:
    return sum(int(r[key]) for r in rows)


def spend_report(
    db: sqlite3.Connection,
    scope: Scope,
    by: str = "tier",
    *,
    baseline_model: str = "",
    budget: dict[str, Any] | None = None,
    session: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole spend report as plain data (the stable `--json` shape)."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    tiers = _groups(db, "tier", scope)
    groups = tiers if by == "tier" else _groups(db, by, scope)
    keys = (
        "calls",
        "refused",
        "input_tokens",
        "output_tokens",
        "cache_write_tokens",
        "cache_read_tokens",
        "cost_micros",
        "baseline_micros",
        "savings_gross_micros",
        "savings_net_micros",
    )
    totals = {k: _sum(tiers, k) for k in keys}
    cache = _cache(db, scope)
    # gross - net = cost of everything not delivered: failed attempts plus unused drafts.
    totals["failed_attempts_micros"] = (
        totals["savings_gross_micros"] - totals["savings_net_micros"] - cache["precompute"]["waste_micros"]
    )
    return {
        "schema": SCHEMA,
        "period": {
            "since": scope.since.isoformat(),
            "until": scope.until.isoformat(),
            "days": (scope.until - scope.since).days + 1,
        },
        "filters": {"repo": scope.repo, "session": session},
        "by": by,
        "baseline": {"model": baseline_model, "rule": BASELINE_RULE},
        "totals": totals,
        "tiers": tiers,
        "groups": groups,
        "days": _days(db, scope),
        "escalation": _escalation(db, scope),
        "cache": cache,
        "budget": budget,
    }


def day_summary(db: sqlite3.Connection, day: dt.date) -> dict[str, Any]:
    """One day's report grouped by tier (kept for callers of the first version)."""
    return spend_report(db, Scope(day, day))
