"""The spend ledger: one SQLite row per attempt. Knows nothing of the engine."""

from codetier.ledger.db import connect
from codetier.ledger.rows import OUTCOMES, Row, record

__all__ = ["OUTCOMES", "Row", "connect", "record"]
