"""Summaries read from the ledger."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

TIER_ORDER = ("tool", "fast", "balanced", "deep")

_SUM = """
SELECT tier, COUNT(*), SUM(input_tokens + cache_write_5m_tokens + cache_write_1h_tokens + cache_read_tokens),
       SUM(output_tokens), SUM(cost_micros), SUM(counterfactual_micros)
FROM attempts WHERE day = ? GROUP BY tier
"""


def day_summary(db: sqlite3.Connection, day: dt.date) -> dict[str, Any]:
    """Calls, tokens, cost and savings against the deep model, per tier."""
    tiers = []
    for tier, calls, n_in, n_out, cost, cf in db.execute(_SUM, (day.isoformat(),)):
        tiers.append(
            {
                "tier": tier,
                "calls": calls,
                "input_tokens": n_in or 0,
                "output_tokens": n_out or 0,
                "cost_micros": cost or 0,
                "counterfactual_micros": cf or 0,
                "savings_micros": (cf or 0) - (cost or 0),
            }
        )
    tiers.sort(key=lambda t: TIER_ORDER.index(t["tier"]) if t["tier"] in TIER_ORDER else 99)
    keys = (
        "calls",
        "input_tokens",
        "output_tokens",
        "cost_micros",
        "counterfactual_micros",
        "savings_micros",
    )
    total = {k: sum(t[k] for t in tiers) for k in keys}
    return {"day": day.isoformat(), "tiers": tiers, "total": total}
