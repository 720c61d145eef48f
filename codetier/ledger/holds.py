"""Budget holds: a model call's worst-case cost, held from the budget check until its
ledger row is written.

Budgets are checked against what the ledger says was spent today. Two processes
checking at once (a hook, the editor and the daemon, say) would each see the
other's call as unspent and together pass a cap. So the check and the hold happen
in one write transaction (`checked`), every check counts the live holds as spent,
and the hold is released once the attempt is recorded. A process that dies
mid-call leaves a hold that expires after the longest the call could have taken.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from codetier.ledger.db import begin

T = TypeVar("T")


def spent_and_held(db: sqlite3.Connection, day: dt.date) -> dict[str, int]:
    """Micro-dollars spent per tier on `day` (ledger/reports.spent_by_tier) plus the holds
    of calls still in flight."""
    from codetier.ledger.reports import spent_by_tier

    spent = spent_by_tier(db, day)
    rows = db.execute(
        "SELECT tier, SUM(micros) FROM budget_holds WHERE day = ? AND expires > ? GROUP BY tier",
        (day.isoformat(), time.time()),
    )
    for tier, micros in rows:
        spent[tier] = spent.get(tier, 0) + int(micros)
    return spent


def checked(
    db: sqlite3.Connection,
    day: dt.date,
    decide: Callable[[dict[str, int]], tuple[T, str | None, int]],
    ttl_s: float,
) -> tuple[T, int | None]:
    """Run `decide(spent and held per tier)`, which returns (its answer, the tier to hold
    for or None, micros), and record the hold, all in one write transaction. Returns the
    answer and the hold's id (None when nothing is held)."""
    begin(db)
    try:
        db.execute("DELETE FROM budget_holds WHERE expires <= ?", (time.time(),))
        answer, tier, micros = decide(spent_and_held(db, day))
        hold = None
        if tier is not None:
            cur = db.execute(
                "INSERT INTO budget_holds (day, tier, micros, expires) VALUES (?, ?, ?, ?)",
                (day.isoformat(), tier, micros, time.time() + ttl_s),
            )
            hold = cur.lastrowid
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return answer, hold


@contextlib.contextmanager
def released(db: sqlite3.Connection, hold: int | None) -> Iterator[None]:
    """Release the hold when the block ends, however it ends."""
    try:
        yield
    finally:
        if hold is not None:
            with contextlib.suppress(sqlite3.Error):  # it expires anyway
                db.execute("DELETE FROM budget_holds WHERE id = ?", (hold,))
