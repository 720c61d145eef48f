from __future__ import annotations

import datetime as dt

import click

from codetier import ledger, output
from codetier.ledger import reports


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def spend(as_json: bool) -> None:
    """Today's calls, tokens, cost and savings by tier."""
    db = ledger.connect()
    try:
        summary = reports.day_summary(db, dt.date.today())
    finally:
        db.close()
    if as_json:
        output.emit_json(summary)
        return
    rows = [
        [
            t["tier"],
            str(t["calls"]),
            f"{t['input_tokens']:,}",
            f"{t['output_tokens']:,}",
            output.usd(t["cost_micros"]),
            output.usd(t["savings_micros"]),
        ]
        for t in summary["tiers"]
    ]
    total = summary["total"]
    rows.append(
        [
            "total",
            str(total["calls"]),
            f"{total['input_tokens']:,}",
            f"{total['output_tokens']:,}",
            output.usd(total["cost_micros"]),
            output.usd(total["savings_micros"]),
        ]
    )
    output.table(
        f"codetier spend · {summary['day']}",
        ["tier", "calls", "input", "output", "cost", "saved vs deep"],
        rows,
    )
