"""The spend ledger: one SQLite row per attempt. Knows nothing of the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codetier.ledger.db import connect

if TYPE_CHECKING:
    from codetier.ledger.rows import OUTCOMES, Row, record

__all__ = ["OUTCOMES", "Row", "connect", "record"]


def __getattr__(name: str) -> Any:
    """Rows load on first use: `codetier audit` opens the ledger without writing rows."""
    if name in ("OUTCOMES", "Row", "record"):
        from codetier.ledger import rows

        value = globals()[name] = getattr(rows, name)  # looked up here once
        return value
    raise AttributeError(f"module 'codetier.ledger' has no attribute {name!r}")
