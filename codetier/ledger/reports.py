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
            w, args = "day BETWEEN ? AND ?", [self.since.isoformat(), self.until.isoformat()]
            if self.repo is not None:
                w += " AND repo = ?"
                args.append(self.repo)
            every = "day BETWEEN ? AND ? AND repo = '*'" if self.repo is None else w
            return Sources(
                f"(SELECT * FROM spend_rollup WHERE {w})",
                f"(SELECT tier, ms, n FROM spend_latency WHERE {every})",
                f"(SELECT * FROM spend_drafts WHERE used = 0 AND {w})",
                args,
                bucketed=True,
            )
        w, args = self.where()
        return Sources(_RAW_ROWS.format(w=w), _RAW_LATENCY.format(w=w), _RAW_UNUSED.format(w=w), args)


@dataclass(frozen=True)
class Sources:
    """Subqueries in the rollups' shape, and the arguments each one takes."""

    rows: str
    latency: str
    unused_drafts: str
    args: list[Any]
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


_GROUP_SQL = """
SELECT {g}, SUM(CASE WHEN outcome != 'budget_refused' THEN n ELSE 0 END),
       SUM(CASE WHEN outcome = 'budget_refused' THEN n ELSE 0 END),
       SUM(input), SUM(output), SUM(cw), SUM(cr), SUM(cost),
       SUM(CASE WHEN outcome = 'ok' THEN cf ELSE 0 END), SUM(CASE WHEN outcome = 'ok' THEN cost ELSE 0 END)
FROM {rows} GROUP BY 1
"""


def _groups(db: sqlite3.Connection, by: str, src: Sources) -> list[dict[str, Any]]:
    drafts = {
        k: (n, c, cf)
        for k, n, c, cf in db.execute(
            f"SELECT {by}, COUNT(*), SUM(cost), SUM(cf) FROM {src.unused_drafts} GROUP BY 1", src.args
        )
    }
    hist: dict[str, list[tuple[int, int]]] = defaultdict(list)
    if by == "tier":
        for key, ms, n in db.execute(
            f"SELECT tier, ms, SUM(n) FROM {src.latency} GROUP BY 1, 2 ORDER BY 1, 2", src.args
        ):
            hist[key].append((_middle(ms) if src.bucketed else ms, n))
    out = []
    for key, calls, refused, n_in, n_out, cw, cr, cost, cf_ok, cost_ok in db.execute(
        _GROUP_SQL.format(g=by, rows=src.rows), src.args
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
                "latency_p50_ms": _percentile(hist[key], 0.50) if by == "tier" else None,
                "latency_p95_ms": _percentile(hist[key], 0.95) if by == "tier" else None,
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


def _escalation(db: sqlite3.Connection, src: Sources) -> dict[str, Any]:
    tasks = []
    sql = f"SELECT task, SUM(firsts), SUM(seconds) FROM {src.rows} GROUP BY task"
    for task, requests, escalated in db.execute(sql, src.args):
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


def _cache(db: sqlite3.Connection, src: Sources) -> dict[str, Any]:
    hits, drafts, draft_cost = db.execute(
        f"""SELECT SUM(CASE WHEN outcome = 'cache_hit' THEN n ELSE 0 END),
                   SUM(CASE WHEN draft AND outcome = 'ok' THEN n ELSE 0 END),
                   SUM(CASE WHEN draft AND outcome = 'ok' THEN cost ELSE 0 END)
            FROM {src.rows}""",
        src.args,
    ).fetchone()
    unused, waste = db.execute(f"SELECT COUNT(*), SUM(cost) FROM {src.unused_drafts}", src.args).fetchone()
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


def _days(db: sqlite3.Connection, scope: Scope, src: Sources) -> list[dict[str, Any]]:
    days: dict[str, dict[str, int]] = {}
    for day, tier, cost in db.execute(f"SELECT day, tier, SUM(cost) FROM {src.rows} GROUP BY 1, 2", src.args):
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
    sql = """SELECT tier, COALESCE(SUM(cost), 0) FROM spend_rollup
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
    src = scope.sources()
    tiers = _groups(db, "tier", src)
    groups = tiers if by == "tier" else _groups(db, by, src)
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
    cache = _cache(db, src)
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
        "days": _days(db, scope, src),
        "escalation": _escalation(db, src),
        "cache": cache,
        "budget": budget,
    }


def day_summary(db: sqlite3.Connection, day: dt.date) -> dict[str, Any]:
    """One day's report grouped by tier (kept for callers of the first version)."""
    return spend_report(db, Scope(day, day))
