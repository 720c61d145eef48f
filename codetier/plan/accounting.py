"""What a plan → execute request cost, shown after a run: a table per
subtask and one summary line. The split itself is read from the ledger
(`codetier.ledger.requests`), which `codetier spend --request` shows too."""

from __future__ import annotations

from collections.abc import Sequence

from codetier import output
from codetier.engine import Result
from codetier.ledger.requests import Phase, Split, request_split
from codetier.plan.execute import Outcome

__all__ = ["Phase", "Split", "request_split", "summary_line", "table_rows"]


def table_rows(plan: Result, plan_cf: int, outcomes: Sequence[Outcome]) -> list[list[str]]:
    """Rows of the per-subtask cost table (the plan first) and a total."""
    served = f"{plan.link.tier}:{plan.link.label}"
    rows = [
        ["plan", served, str(len(plan.attempts)), "ok", output.usd(plan.cost_micros), output.usd(plan_cf)]
    ]
    for o in outcomes:
        served = f"{o.result.link.tier}:{o.result.link.label}" if o.result else "-"
        attempts = str(len(o.result.attempts)) if o.result else str(o.answers)
        rows.append(
            [
                o.subtask.id,
                served,
                attempts,
                "ok" if o.ok else "failed",
                output.usd(o.cost_micros),
                output.usd(o.counterfactual_micros),
            ]
        )
    cost = plan.cost_micros + sum(o.cost_micros for o in outcomes)
    cf = plan_cf + sum(o.counterfactual_micros for o in outcomes)
    rows.append(["total", "", "", "", output.usd(cost), output.usd(cf)])
    return rows


COLUMNS = ["subtask", "served by", "attempts", "result", "cost", "all on deep"]


def summary_line(split: Split) -> str:
    saved = split.savings_micros
    share = f" ({saved * 100 // split.counterfactual_micros}% saved)" if split.counterfactual_micros else ""
    return (
        f"request {split.request_id}: plan {output.usd(split.plan.cost_micros)}"
        f" + execution {output.usd(split.execute.cost_micros)}"
        + (f" + routing {output.usd(split.other.cost_micros)}" if split.other.calls else "")
        + f" = {output.usd(split.cost_micros)};"
        f" all on the deep model {output.usd(split.counterfactual_micros)}{share}"
    )
