# ruff: noqa: E501  (long SQL lines read better unbroken)
"""The SQL of migration m004: rollups of the attempts table kept by triggers.

Frozen with the migration: a change here is a new migration, never an edit.
"""

from __future__ import annotations

import sqlite3

_ROLLUP_KEY = (
    "{r}.day, COALESCE({r}.repo, ''), {r}.source, {r}.task, {r}.tier, COALESCE({r}.model, {r}.provider),"
    " {r}.outcome, {r}.cache_key IS NOT NULL"
)
_ROLLUP_VALUES = (
    "{r}.attempt = 1, {r}.attempt = 2, {r}.input_tokens, {r}.output_tokens,"
    " {r}.cache_write_5m_tokens + {r}.cache_write_1h_tokens, {r}.cache_read_tokens, {r}.cost_micros,"
    " {r}.counterfactual_micros"
)
_ROLLUP_WHERE = (
    "day = {r}.day AND repo = COALESCE({r}.repo, '') AND source = {r}.source AND task = {r}.task"
    " AND tier = {r}.tier AND model = COALESCE({r}.model, {r}.provider) AND outcome = {r}.outcome"
    " AND draft = ({r}.cache_key IS NOT NULL)"
)
# Latency kept to two significant digits above 100 ms (at most 10% off, usually ~2%).
# Latency buckets: exact below 100 ms, then 36 per decade (25, 250, 2500 ms wide);
# reports read a bucket's middle, so a percentile is off by at most 12%.
_BUCKET = (
    "CASE WHEN {r}.latency_ms < 100 THEN {r}.latency_ms WHEN {r}.latency_ms < 1000 THEN {r}.latency_ms / 25 * 25"
    " WHEN {r}.latency_ms < 10000 THEN {r}.latency_ms / 250 * 250 WHEN {r}.latency_ms < 100000"
    " THEN {r}.latency_ms / 2500 * 2500 ELSE {r}.latency_ms / 25000 * 25000 END"
)
# Each latency is counted twice: under its repo, and under '*' (every repo), so a
# report without --repo reads a few rows per day and tier.
_REPOS = ("COALESCE({r}.repo, '')", "'*'")
_TIMED = "{r}.outcome IN ('ok', 'check_failed', 'provider_error')"


def _rollup_add(r: str) -> str:
    key, values = _ROLLUP_KEY.format(r=r), _ROLLUP_VALUES.format(r=r)
    return f"""
        INSERT INTO spend_rollup VALUES ({key}, 1, {values})
        ON CONFLICT DO UPDATE SET n = n + 1, firsts = firsts + excluded.firsts,
            seconds = seconds + excluded.seconds, input = input + excluded.input,
            output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
            cost = cost + excluded.cost, cf = cf + excluded.cf;
        {
        "".join(
            f'''
        INSERT INTO spend_latency SELECT {r}.day, {repo.format(r=r)}, {r}.tier, {_BUCKET.format(r=r)}, 1
        WHERE {_TIMED.format(r=r)} ON CONFLICT DO UPDATE SET n = n + 1;'''
            for repo in _REPOS
        )
    }
        INSERT INTO spend_drafts SELECT {r}.id, {r}.cache_key, {r}.day, COALESCE({r}.repo, ''), {r}.source,
            {r}.task, {r}.tier, COALESCE({r}.model, {r}.provider), {r}.cost_micros, {
        r
    }.counterfactual_micros, 0
        WHERE {r}.cache_key IS NOT NULL AND {r}.outcome = 'ok';
        UPDATE spend_drafts SET used = 1 WHERE {r}.outcome = 'cache_hit' AND (cache_key = {r}.cache_key
            OR id = {r}.parent_id);
    """


def _rollup_remove(r: str) -> str:
    return f"""
        UPDATE spend_rollup SET n = n - 1, firsts = firsts - ({r}.attempt = 1),
            seconds = seconds - ({r}.attempt = 2), input = input - {r}.input_tokens,
            output = output - {r}.output_tokens,
            cw = cw - ({r}.cache_write_5m_tokens + {r}.cache_write_1h_tokens),
            cr = cr - {r}.cache_read_tokens, cost = cost - {r}.cost_micros, cf = cf - {
        r
    }.counterfactual_micros
        WHERE {_ROLLUP_WHERE.format(r=r)};
        DELETE FROM spend_rollup WHERE n = 0 AND {_ROLLUP_WHERE.format(r=r)};
        {
        "".join(
            f'''
        UPDATE spend_latency SET n = n - 1 WHERE {_TIMED.format(r=r)} AND day = {r}.day
            AND repo = {repo.format(r=r)} AND tier = {r}.tier AND ms = {_BUCKET.format(r=r)};
        DELETE FROM spend_latency WHERE n = 0 AND day = {r}.day AND repo = {repo.format(r=r)}
            AND tier = {r}.tier;'''
            for repo in _REPOS
        )
    }
        DELETE FROM spend_drafts WHERE id = {r}.id;
    """


def m004(db: sqlite3.Connection) -> None:
    """Per-day rollups kept by triggers, so `codetier spend` over a million rows
    reads thousands: calls, tokens and money by day/repo/source/task/tier/model/
    outcome; latency histograms by day/repo/tier; precompute drafts and whether
    a cache hit used them. Existing rows are rolled up once here."""
    db.execute(
        """
        CREATE TABLE spend_rollup (
            day TEXT NOT NULL, repo TEXT NOT NULL, source TEXT NOT NULL, task TEXT NOT NULL,
            tier TEXT NOT NULL, model TEXT NOT NULL, outcome TEXT NOT NULL, draft INTEGER NOT NULL,
            n INTEGER NOT NULL, firsts INTEGER NOT NULL, seconds INTEGER NOT NULL,
            input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL, cr INTEGER NOT NULL,
            cost INTEGER NOT NULL, cf INTEGER NOT NULL,
            PRIMARY KEY (day, repo, source, task, tier, model, outcome, draft)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE spend_latency (
            day TEXT NOT NULL, repo TEXT NOT NULL, tier TEXT NOT NULL, ms INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (repo, day, tier, ms)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE spend_drafts (
            id INTEGER PRIMARY KEY, cache_key TEXT NOT NULL, day TEXT NOT NULL, repo TEXT NOT NULL,
            source TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, model TEXT NOT NULL,
            cost INTEGER NOT NULL, cf INTEGER NOT NULL, used INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX spend_drafts_key ON spend_drafts (cache_key)")
    db.execute("CREATE INDEX spend_drafts_unused ON spend_drafts (day) WHERE used = 0")
    db.execute(
        f"CREATE TRIGGER attempts_rollup_insert AFTER INSERT ON attempts BEGIN {_rollup_add('NEW')} END"
    )
    db.execute(
        f"CREATE TRIGGER attempts_rollup_delete AFTER DELETE ON attempts BEGIN {_rollup_remove('OLD')} END"
    )
    db.execute(
        "CREATE TRIGGER attempts_rollup_update AFTER UPDATE OF day, repo, source, task, tier, model, provider,"
        " outcome, cache_key, parent_id, attempt, input_tokens, output_tokens, cache_write_5m_tokens,"
        " cache_write_1h_tokens, cache_read_tokens, cost_micros, counterfactual_micros, latency_ms ON attempts"
        f" BEGIN {_rollup_remove('OLD')} {_rollup_add('NEW')} END"
    )
    key = _ROLLUP_KEY.format(r="a")
    db.execute(
        f"""INSERT INTO spend_rollup SELECT {key}, COUNT(*), SUM(a.attempt = 1), SUM(a.attempt = 2),
                SUM(a.input_tokens), SUM(a.output_tokens), SUM(a.cache_write_5m_tokens + a.cache_write_1h_tokens),
                SUM(a.cache_read_tokens), SUM(a.cost_micros), SUM(a.counterfactual_micros)
            FROM attempts a GROUP BY {", ".join(str(i) for i in range(1, 9))}"""
    )
    db.execute(
        f"""INSERT INTO spend_latency SELECT a.day, COALESCE(a.repo, ''), a.tier, {_BUCKET.format(r="a")}, COUNT(*)
            FROM attempts a WHERE {_TIMED.format(r="a")} GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT a.day, '*', a.tier, {_BUCKET.format(r="a")}, COUNT(*)
            FROM attempts a WHERE {_TIMED.format(r="a")} GROUP BY 1, 2, 3, 4"""
    )
    db.execute(
        """INSERT INTO spend_drafts SELECT a.id, a.cache_key, a.day, COALESCE(a.repo, ''), a.source, a.task,
                a.tier, COALESCE(a.model, a.provider), a.cost_micros, a.counterfactual_micros,
                EXISTS (SELECT 1 FROM attempts h WHERE h.outcome = 'cache_hit'
                        AND (h.cache_key = a.cache_key OR h.parent_id = a.id))
            FROM attempts a WHERE a.cache_key IS NOT NULL AND a.outcome = 'ok'"""
    )
    db.execute(
        """
        CREATE TABLE audit_rollup (
            day TEXT NOT NULL, model TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL,
            entries INTEGER NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cw INTEGER NOT NULL,
            cr INTEGER NOT NULL, cost INTEGER NOT NULL, routed INTEGER NOT NULL,
            PRIMARY KEY (day, model, task, tier)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE audit_prompt_rollup (
            day TEXT NOT NULL, task TEXT NOT NULL, tier TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, task, tier)
        ) WITHOUT ROWID
        """
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
