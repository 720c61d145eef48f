"""Summaries read from the ledger: the spend report and what budgets read.

Day ranges read the rollups that triggers keep (ledger/rollup_sql.py), so a
million rows stay fast; a session's time window reads its rows. Money stays
in integer micro-dollars; latency percentiles are exact from rows and within
10% (two significant digits) from the rollups. The JSON shape of `spend_report`
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
GROUPS = ("tier", "task", "model", "source", "day")
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

    def sources(self) -> Sources:
        """Day-range reports read the rollups; a session's time window reads the rows."""
        if self.ts_from is None and self.session is None:
            # Rollup rows are counted under their repo and under '*' (every repo).
            args = {
                "repo": self.repo or "*",
                "since": self.since.isoformat(),
                "until": self.until.isoformat(),
            }
            w = "repo = :repo AND day BETWEEN :since AND :until"
            drafts = "used = 0 AND day BETWEEN :since AND :until AND (:repo = '*' OR repo = :repo)"
            return Sources(
                f"(SELECT * FROM spend_rollup WHERE {w})",
                f"(SELECT tier, ms, n FROM spend_latency WHERE {w})",
                f"(SELECT * FROM spend_drafts WHERE {drafts})",
                args,
                bucketed=True,
            )
        raw, values = self.where()
        return Sources(_RAW_ROWS.format(w=raw), _RAW_LATENCY.format(w=raw), _RAW_UNUSED.format(w=raw), values)


@dataclass(frozen=True)
class Sources:
    """Subqueries in the rollups' shape, and the arguments each one takes."""

    rows: str
    latency: str
    unused_drafts: str
    args: list[Any] | dict[str, Any]
    bucketed: bool = False  # latency comes in rollup buckets (see ledger/rollup_sql.py)


_RAW_ROWS = """(SELECT day, COALESCE(repo, '') AS repo, source, task, tier,
    COALESCE(model, provider) AS model, outcome, cache_key IS NOT NULL AS draft, 1 AS n,
    attempt = 1 AS firsts, attempt = 2 AS seconds,
    input_tokens AS input, output_tokens AS output, cache_write_5m_tokens + cache_write_1h_tokens AS cw,
    cache_read_tokens AS cr, cost_micros AS cost, counterfactual_micros AS cf FROM attempts WHERE {w})"""
_RAW_LATENCY = """(SELECT tier, latency_ms AS ms, 1 AS n FROM attempts
    WHERE {w} AND outcome IN ('ok', 'check_failed', 'provider_error'))"""
_RAW_UNUSED = """(SELECT day, source, task, tier, COALESCE(model, provider) AS model, cost_micros AS cost,
    counterfactual_micros AS cf FROM attempts a
    WHERE {w} AND cache_key IS NOT NULL AND outcome = 'ok'
      AND NOT EXISTS (SELECT 1 FROM attempts h WHERE h.parent_id = a.id AND h.outcome = 'cache_hit')
      AND NOT EXISTS (SELECT 1 FROM attempts h
                      WHERE h.cache_key = a.cache_key AND h.outcome = 'cache_hit'))"""


def _tier_key(name: str) -> tuple[int, str]:
    return (TIER_ORDER.index(name) if name in TIER_ORDER else 99, name)


def _middle(bucket: int) -> int:
    """The middle of a rollup latency bucket (exact below 100 ms, then 25/250/2500/25000 wide)."""
    for limit, width in ((100, 1), (1_000, 25), (10_000, 250), (100_000, 2_500)):
        if bucket < limit:
            return bucket + width // 2
    return bucket + 12_500


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


# Every report reads three small result sets, then adds up in Python.
_ROWS_SQL = """SELECT day, source, task, tier, model, outcome, draft, SUM(n), SUM(firsts), SUM(seconds),
    SUM(input), SUM(output), SUM(cw), SUM(cr), SUM(cost), SUM(cf) FROM {rows} GROUP BY 1, 2, 3, 4, 5, 6, 7"""
_UNUSED_SQL = (
    "SELECT day, source, task, tier, model, COUNT(*), SUM(cost), SUM(cf) FROM {d} GROUP BY 1, 2, 3, 4, 5"
)
_LATENCY_SQL = "SELECT tier, ms, SUM(n) FROM {lat} GROUP BY 1, 2 ORDER BY 1, 2"
_COLUMN = {"day": 0, "source": 1, "task": 2, "tier": 3, "model": 4}


@dataclass(frozen=True)
class Facts:
    rows: list[tuple[Any, ...]]  # _ROWS_SQL's columns
    unused: list[tuple[Any, ...]]  # unused drafts: day, source, task, tier, model, count, cost, cf
    latency: dict[str, list[tuple[int, int]]]  # tier -> sorted (ms, count)


def _facts(db: sqlite3.Connection, src: Sources) -> Facts:
    latency: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for tier, ms, n in db.execute(_LATENCY_SQL.format(lat=src.latency), src.args):
        latency[tier].append((_middle(ms) if src.bucketed else ms, n))
    return Facts(
        db.execute(_ROWS_SQL.format(rows=src.rows), src.args).fetchall(),
        db.execute(_UNUSED_SQL.format(d=src.unused_drafts), src.args).fetchall(),
        latency,
    )


_FIELDS = (
    "calls",
    "refused",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "cost_micros",
    "baseline_micros",
    "delivered_micros",
)


def _groups(facts: Facts, by: str) -> list[dict[str, Any]]:
    col = _COLUMN[by]
    sums: dict[str, dict[str, int]] = {}
    for r in facts.rows:
        outcome, n, cost = r[5], r[7], r[14]
        g = sums.setdefault(r[col], dict.fromkeys(_FIELDS, 0))
        g["refused" if outcome == "budget_refused" else "calls"] += n
        g["input_tokens"] += r[10]
        g["output_tokens"] += r[11]
        g["cache_write_tokens"] += r[12]
        g["cache_read_tokens"] += r[13]
        g["cost_micros"] += cost
        if outcome == "ok":
            g["baseline_micros"] += r[15]
            g["delivered_micros"] += cost
    for d in facts.unused:  # unused drafts: cost, but no baseline and nothing delivered
        g = sums.setdefault(d[col], dict.fromkeys(_FIELDS, 0))
        g["baseline_micros"] -= d[7]
        g["delivered_micros"] -= d[6]
    calls_all = sum(g["calls"] for g in sums.values()) or 1
    cost_all = sum(g["cost_micros"] for g in sums.values()) or 1
    out: list[dict[str, Any]] = []
    for key, g in sums.items():
        delivered = g.pop("delivered_micros")
        hist = facts.latency.get(key, []) if by == "tier" else []
        out.append(
            {
                "key": key,
                **g,
                "savings_gross_micros": g["baseline_micros"] - delivered,
                "savings_net_micros": g["baseline_micros"] - g["cost_micros"],
                "latency_p50_ms": _percentile(hist, 0.50) if by == "tier" else None,
                "latency_p95_ms": _percentile(hist, 0.95) if by == "tier" else None,
                "call_share": round(g["calls"] / calls_all, 4),
                "cost_share": round(g["cost_micros"] / cost_all, 4),
            }
        )
    if by == "tier":
        out.sort(key=lambda r: _tier_key(r["key"]))
    elif by == "day":
        out.sort(key=lambda r: r["key"])
    else:
        out.sort(key=lambda r: (-r["cost_micros"], str(r["key"])))
    return out


def _escalation(facts: Facts) -> dict[str, Any]:
    counts: dict[str, list[int]] = {}
    # Why first links failed: a provider or network outage escalates as surely as a
    # routing mistake, and the warning should not blame the router for it.
    failed_first = {"check_failed": 0, "provider_error": 0, "budget_refused": 0}
    for r in facts.rows:
        c = counts.setdefault(r[2], [0, 0])
        c[0] += r[8]
        c[1] += r[9]
        if r[5] in failed_first:
            failed_first[r[5]] += r[8]
    tasks: list[dict[str, Any]] = [
        {"task": task, "requests": req, "escalated": esc, "rate": round(esc / req, 4)}
        for task, (req, esc) in counts.items()
        if req
    ]
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
        "failed_first": failed_first,
    }


def _cache(facts: Facts) -> dict[str, Any]:
    hits = sum(r[7] for r in facts.rows if r[5] == "cache_hit")
    drafts = [r for r in facts.rows if r[6] and r[5] == "ok"]
    n_drafts = sum(r[7] for r in drafts)
    unused = sum(d[5] for d in facts.unused)
    return {
        "hits": hits,
        "precompute": {
            "drafts": n_drafts,
            "used": n_drafts - unused,
            "unused": unused,
            "cost_micros": sum(r[14] for r in drafts),
            "waste_micros": sum(d[6] for d in facts.unused),
        },
    }


def _days(facts: Facts, scope: Scope) -> list[dict[str, Any]]:
    days: dict[str, dict[str, int]] = {}
    for r in facts.rows:
        tiers = days.setdefault(r[0], {})
        tiers[r[3]] = tiers.get(r[3], 0) + r[14]
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
    sql = """SELECT tier, COALESCE(SUM(cost), 0) FROM spend_rollup
             WHERE repo = '*' AND day = ? AND source != 'claude-code' GROUP BY tier"""
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
    facts = _facts(db, scope.sources())
    tiers = _groups(facts, "tier")
    groups = tiers if by == "tier" else _groups(facts, by)
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
    cache = _cache(facts)
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
        "days": _days(facts, scope),
        "escalation": _escalation(facts),
        "cache": cache,
        "budget": budget,
    }


def day_summary(db: sqlite3.Connection, day: dt.date) -> dict[str, Any]:
    """One day's report grouped by tier (kept for callers of the first version)."""
    return spend_report(db, Scope(day, day))
