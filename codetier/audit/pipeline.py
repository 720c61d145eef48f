"""One audit, wherever it runs (the CLI's process or the daemon's): read what is
new into the audit tables, then build the report, and `--import` when asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codetier import ledger
from codetier.audit import changes, ingest, report
from codetier.registry import Registry


def audit(
    roots: Sequence[Path],
    since: dt.date | None,
    reg: Registry,
    *,
    do_import: bool = False,
    limit: int | None = None,
    early: changes.PendingChild | None = None,
) -> dict[str, Any]:
    """The report (schema codetier.audit/1). With `limit`, raises ingest.TooMuch rather than
    read that many new bytes or more, before anything is written. `early`: see ingest."""
    db = ledger.connect()
    try:
        stats = ingest.ingest(db, roots, reg, limit=limit, early=early)
        data = report.build(db, reg, stats, since)
        if do_import:
            data["imported"] = report.import_usage(db, reg, roots)
    finally:
        db.close()
    return data
