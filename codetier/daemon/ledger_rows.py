"""The daemon's ledger rows: cache hits linked to their precompute, and the
waste of drafts nobody used (for `codetier spend`)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from dataclasses import dataclass

from codetier import ledger


def record_hit(db: sqlite3.Connection, parent_id: int, cache_key: str, source: str, latency_ms: int) -> int:
    """A used draft: outcome `cache_hit`, $0, no tokens, `parent_id` = the
    precompute row that produced it (its tier, provider and model are copied)."""
    found = db.execute(
        "SELECT task, tier, provider, model, repo, session FROM attempts WHERE id = ?", (parent_id,)
    ).fetchone()
    if found is None:
        raise LookupError(f"no ledger row {parent_id}")
    task, tier, provider, model, repo, session = found
    return ledger.record(
        db,
        ledger.Row(
            ts=dt.datetime.now(dt.UTC),
            source=source,
            request_id="ct_" + uuid.uuid4().hex[:16],
            attempt=1,
            task=task,
            tier=tier,
            provider=provider,
            model=model,
            session=session,
            repo=repo,
            outcome="cache_hit",
            latency_ms=latency_ms,
            parent_id=parent_id,
            cache_key=cache_key,
        ),
    )


@dataclass(frozen=True)
class Waste:
    """Precomputed drafts in a date range: how many, how many were used, and
    what the unused ones cost (every attempt of their request counts)."""

    drafts: int
    used: int
    wasted: int
    wasted_micros: int
    spent_micros: int


_PRECOMPUTES = """
SELECT p.request_id, SUM(p.cost_micros),
       EXISTS (SELECT 1 FROM attempts h JOIN attempts o ON o.id = h.parent_id
               WHERE h.outcome = 'cache_hit' AND o.request_id = p.request_id)
FROM attempts p
WHERE p.cache_key IS NOT NULL AND p.outcome != 'cache_hit' AND p.day BETWEEN ? AND ?
GROUP BY p.request_id
HAVING SUM(p.outcome = 'ok' AND p.provider != 'offline') > 0
"""


def waste(db: sqlite3.Connection, start: dt.date, end: dt.date | None = None) -> Waste:
    """Drafts precomputed from `start` to `end` (local days, inclusive) that
    no cache hit ever used. A draft still waiting in the daemon counts as
    unused until a commit uses it. Only real drafts count: a request whose
    model attempts all failed (or an offline row an older daemon recorded)
    made none."""
    rows = db.execute(_PRECOMPUTES, (start.isoformat(), (end or start).isoformat())).fetchall()
    used = [r for r in rows if r[2]]
    unused = [r for r in rows if not r[2]]
    return Waste(
        drafts=len(rows),
        used=len(used),
        wasted=len(unused),
        wasted_micros=sum(int(r[1] or 0) for r in unused),
        spent_micros=sum(int(r[1] or 0) for r in rows),
    )


def ok_row(db: sqlite3.Connection, request_id: str) -> int | None:
    """The id of a request's passing attempt."""
    found = db.execute(
        "SELECT id FROM attempts WHERE request_id = ? AND outcome = 'ok' ORDER BY id DESC LIMIT 1",
        (request_id,),
    ).fetchone()
    return int(found[0]) if found else None
