"""One row per attempt, written in its own transaction so none is lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from dataclasses import dataclass

from codetier.ledger.db import waiting

OUTCOMES = ("ok", "check_failed", "provider_error", "budget_refused", "cache_hit")


@dataclass(frozen=True)
class Row:
    ts: dt.datetime
    source: str
    request_id: str
    attempt: int
    task: str
    tier: str
    provider: str
    outcome: str
    model: str | None = None
    session: str | None = None
    repo: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    cost_micros: int = 0
    counterfactual_micros: int = 0
    latency_ms: int = 0
    reason: str | None = None
    redacted: bool = False
    provider_request_id: str | None = None
    prompt: str | None = None
    parent_id: int | None = None
    phase: str | None = None
    cache_key: str | None = None


COLUMNS = [f.name for f in dataclasses.fields(Row)]


def record(db: sqlite3.Connection, row: Row) -> int:
    """Insert one row; returns its id."""
    if row.outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {row.outcome!r}")
    values = dataclasses.asdict(row)
    values["ts"] = row.ts.isoformat(timespec="milliseconds")
    values["day"] = row.ts.astimezone().date().isoformat()
    values["redacted"] = int(row.redacted)
    names = [*COLUMNS, "day"]
    sql = f"INSERT INTO attempts ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    with waiting(db):
        cur = db.execute(sql, [values[n] for n in names])
    return int(cur.lastrowid or 0)


def spent_on(db: sqlite3.Connection, day: dt.date) -> int:
    """Micro-dollars spent on a local calendar day."""
    (total,) = db.execute(
        "SELECT COALESCE(SUM(cost_micros), 0) FROM attempts WHERE day = ?", (day.isoformat(),)
    ).fetchone()
    return int(total)
