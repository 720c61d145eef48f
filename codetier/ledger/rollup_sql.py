# ruff: noqa: E501  (long SQL lines read better unbroken)
"""The SQL of migration m004: rollups kept up to date on write.

Frozen with the migration: a change here is a new migration, never an edit.

- spend_rollup: sums of attempts per repo/day/source/task/tier/model/outcome/draft.
- spend_latency: latency histograms per repo/day/tier.
  Both count every row twice, under its repo and under repo '*' (every repo),
  so a report without --repo reads a few thousand rows for a quarter.
- spend_drafts: precomputed drafts and whether a cache hit used them.
- audit_rollup / audit_prompt_rollup: `codetier audit`'s per day/model/task/tier
  sums (written by audit/ingest.py, not by triggers).
"""

from __future__ import annotations

import sqlite3

# {r} is NEW or OLD; {repo} is the repo expression (the row's, or '*').
_KEY = "{r}.day, {repo}, {r}.source, {r}.task, {r}.tier, COALESCE({r}.model, {r}.provider), {r}.outcome, {r}.cache_key IS NOT NULL"
_WHERE = (
    "repo = {repo} AND day = {r}.day AND source = {r}.source AND task = {r}.task AND tier = {r}.tier"
    " AND model = COALESCE({r}.model, {r}.provider) AND outcome = {r}.outcome AND draft = ({r}.cache_key IS NOT NULL)"
)
_REPOS = ("COALESCE({r}.repo, '')", "'*'")
_TIMED = "{r}.outcome IN ('ok', 'check_failed', 'provider_error')"
# Latency buckets: exact below 100 ms, then 36 per decade (25, 250, 2500, 25000 ms
# wide); reports read a bucket's middle, so a percentile is off by at most 12%.
_BUCKET = (
    "CASE WHEN {r}.latency_ms < 100 THEN {r}.latency_ms WHEN {r}.latency_ms < 1000 THEN {r}.latency_ms / 25 * 25"
    " WHEN {r}.latency_ms < 10000 THEN {r}.latency_ms / 250 * 250 WHEN {r}.latency_ms < 100000"
    " THEN {r}.latency_ms / 2500 * 2500 ELSE {r}.latency_ms / 25000 * 25000 END"
)

_ADD = """
INSERT INTO spend_rollup VALUES ({key}, 1, {r}.attempt = 1, {r}.attempt = 2, {r}.input_tokens, {r}.output_tokens,
    {r}.cache_write_5m_tokens + {r}.cache_write_1h_tokens, {r}.cache_read_tokens, {r}.cost_micros, {r}.counterfactual_micros)
ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts, seconds = seconds + excluded.seconds,
    input = input + excluded.input, output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
    cost = cost + excluded.cost, cf = cf + excluded.cf;
INSERT INTO spend_latency SELECT {repo}, {r}.day, {r}.tier, {bucket}, 1 WHERE {timed}
ON CONFLICT DO UPDATE SET n = n + 1;
"""
_REMOVE = """
UPDATE spend_rollup SET n = n - 1, firsts = firsts - ({r}.attempt = 1), seconds = seconds - ({r}.attempt = 2),
    input = input - {r}.input_tokens, output = output - {r}.output_tokens,
    cw = cw - ({r}.cache_write_5m_tokens + {r}.cache_write_1h_tokens), cr = cr - {r}.cache_read_tokens,
    cost = cost - {r}.cost_micros, cf = cf - {r}.counterfactual_micros
WHERE {where};
DELETE FROM spend_rollup WHERE n = 0 AND {where};
UPDATE spend_latency SET n = n - 1
WHERE {timed} AND repo = {repo} AND day = {r}.day AND tier = {r}.tier AND ms = {bucket};
DELETE FROM spend_latency WHERE n = 0 AND repo = {repo} AND day = {r}.day AND tier = {r}.tier;
"""
_DRAFT_ADD = """
INSERT INTO spend_drafts SELECT {r}.id, {r}.cache_key, {r}.day, COALESCE({r}.repo, ''), {r}.source, {r}.task, {r}.tier,
    COALESCE({r}.model, {r}.provider), {r}.cost_micros, {r}.counterfactual_micros, 0
WHERE {r}.cache_key IS NOT NULL AND {r}.outcome = 'ok';
UPDATE spend_drafts SET used = 1
WHERE {r}.outcome = 'cache_hit' AND (cache_key = {r}.cache_key OR id = {r}.parent_id);
"""
_DRAFT_REMOVE = "DELETE FROM spend_drafts WHERE id = {r}.id;"


def _fill(template: str, r: str, repo: str) -> str:
    repo = repo.format(r=r)
    return template.format(
        r=r,
        repo=repo,
        key=_KEY.format(r=r, repo=repo),
        where=_WHERE.format(r=r, repo=repo),
        timed=_TIMED.format(r=r),
        bucket=_BUCKET.format(r=r),
    )


def _add(r: str) -> str:
    return "".join(_fill(_ADD, r, repo) for repo in _REPOS) + _DRAFT_ADD.format(r=r)


def _remove(r: str) -> str:
    return "".join(_fill(_REMOVE, r, repo) for repo in _REPOS) + _DRAFT_REMOVE.format(r=r)


_TABLES = [
    """CREATE TABLE spend_rollup (
        day TEXT NOT NULL, repo TEXT NOT NULL, source TEXT NOT NULL, task TEXT NOT NULL,
        tier TEXT NOT NULL, model TEXT NOT NULL, outcome TEXT NOT NULL, draft INTEGER NOT NULL,
        n INTEGER NOT NULL, firsts INTEGER NOT NULL, seconds INTEGER NOT NULL,
        input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL, cr INTEGER NOT NULL,
        cost INTEGER NOT NULL, cf INTEGER NOT NULL,
        PRIMARY KEY (repo, day, source, task, tier, model, outcome, draft)
    ) WITHOUT ROWID""",
    """CREATE TABLE spend_latency (
        repo TEXT NOT NULL, day TEXT NOT NULL, tier TEXT NOT NULL, ms INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (repo, day, tier, ms)
    ) WITHOUT ROWID""",
    """CREATE TABLE spend_drafts (
        id INTEGER PRIMARY KEY, cache_key TEXT NOT NULL, day TEXT NOT NULL, repo TEXT NOT NULL,
        source TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, model TEXT NOT NULL,
        cost INTEGER NOT NULL, cf INTEGER NOT NULL, used INTEGER NOT NULL
    )""",
    "CREATE INDEX spend_drafts_key ON spend_drafts (cache_key)",
    "CREATE INDEX spend_drafts_unused ON spend_drafts (day) WHERE used = 0",
    """CREATE TABLE audit_rollup (
        day TEXT NOT NULL, model TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL,
        entries INTEGER NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL,
        cr INTEGER NOT NULL, cost INTEGER NOT NULL, routed INTEGER NOT NULL,
        PRIMARY KEY (day, model, task, tier)
    ) WITHOUT ROWID""",
    """CREATE TABLE audit_prompt_rollup (
        day TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, task, tier)
    ) WITHOUT ROWID""",
]
_UPDATED = (
    "day, repo, source, task, tier, model, provider, outcome, cache_key, parent_id, attempt, input_tokens,"
    " output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, cost_micros,"
    " counterfactual_micros, latency_ms"
)
_BACKFILL = [
    """INSERT INTO spend_rollup SELECT day, {repo}, source, task, tier, COALESCE(model, provider), outcome,
        cache_key IS NOT NULL, COUNT(*), SUM(attempt = 1), SUM(attempt = 2), SUM(input_tokens), SUM(output_tokens),
        SUM(cache_write_5m_tokens + cache_write_1h_tokens), SUM(cache_read_tokens), SUM(cost_micros),
        SUM(counterfactual_micros)
    FROM attempts a GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""",
    """INSERT INTO spend_latency SELECT {repo}, day, tier, {bucket}, COUNT(*) FROM attempts a
    WHERE {timed} GROUP BY 1, 2, 3, 4""",
]


def m004(db: sqlite3.Connection) -> None:
    # Rollups are derived data: a ledger that ran a draft of this migration
    # (named m004_spend_rollups for a few hours) gets them rebuilt.
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER IF EXISTS attempts_rollup_{trigger}")
    for table in ("spend_rollup", "spend_latency", "spend_drafts", "audit_rollup", "audit_prompt_rollup"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for sql in _TABLES:
        db.execute(sql)
    db.execute(f"CREATE TRIGGER attempts_rollup_insert AFTER INSERT ON attempts BEGIN {_add('NEW')} END")
    db.execute(f"CREATE TRIGGER attempts_rollup_delete AFTER DELETE ON attempts BEGIN {_remove('OLD')} END")
    db.execute(
        f"CREATE TRIGGER attempts_rollup_update AFTER UPDATE OF {_UPDATED} ON attempts"
        f" BEGIN {_remove('OLD')} {_add('NEW')} END"
    )
    for template in _BACKFILL:
        for repo in _REPOS:
            db.execute(
                template.format(
                    repo=repo.format(r="a"), bucket=_BUCKET.format(r="a"), timed=_TIMED.format(r="a")
                )
            )
    db.execute(
        """INSERT INTO spend_drafts SELECT a.id, a.cache_key, a.day, COALESCE(a.repo, ''), a.source, a.task,
            a.tier, COALESCE(a.model, a.provider), a.cost_micros, a.counterfactual_micros,
            EXISTS (SELECT 1 FROM attempts h WHERE h.outcome = 'cache_hit'
                    AND (h.cache_key = a.cache_key OR h.parent_id = a.id))
        FROM attempts a WHERE a.cache_key IS NOT NULL AND a.outcome = 'ok'"""
    )
    db.execute(
        """INSERT INTO audit_rollup SELECT day, model, COALESCE(task, ''), COALESCE(tier, ''), COUNT(*),
            SUM(input_tokens), SUM(output_tokens), SUM(cache_write_5m_tokens + cache_write_1h_tokens),
            SUM(cache_read_tokens), SUM(cost_micros), SUM(routed_cost_micros)
        FROM audit_usage GROUP BY 1, 2, 3, 4"""
    )
    db.execute(
        "INSERT INTO audit_prompt_rollup SELECT day, task, tier, COUNT(*) FROM audit_prompts GROUP BY 1, 2, 3"
    )
