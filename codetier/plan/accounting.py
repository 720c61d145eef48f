"""What a plan → execute request cost, read from the ledger: the plan call,
the execution, and the counterfactual of sending every call to the deep model.

`request_split(db, request_id)` is the hook for `codetier spend`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from codetier import output
from codetier.engine import Result
from codetier.plan.execute import Outcome

_SPLIT = """
SELECT COALESCE(phase, 'other'), COUNT(*), SUM(cost_micros), SUM(counterfactual_micros),
       SUM(outcome != 'ok')
FROM attempts WHERE request_id = ? GROUP BY 1
"""


@dataclass(frozen=True)
class Phase:
    calls: int = 0
    cost_micros: int = 0
    counterfactual_micros: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Split:
    request_id: str
    plan: Phase
    execute: Phase
    other: Phase  # rows without a phase: routing (classify) or an ordinary request

    @property
    def cost_micros(self) -> int:
        return self.plan.cost_micros + self.execute.cost_micros + self.other.cost_micros

    @property
    def counterfactual_micros(self) -> int:
        """The same tokens, every call priced at the deep (baseline) model."""
        return sum(p.counterfactual_micros for p in (self.plan, self.execute, self.other))

    @property
    def savings_micros(self) -> int:
        return self.counterfactual_micros - self.cost_micros

    def as_dict(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "plan": vars(self.plan),
            "execute": vars(self.execute),
            "other": vars(self.other),
            "cost_micros": self.cost_micros,
            "counterfactual_micros": self.counterfactual_micros,
            "savings_micros": self.savings_micros,
        }


def request_split(db: sqlite3.Connection, request_id: str) -> Split:
    """Plan cost, execution cost and the all-deep counterfactual of one request
    (rows without a phase, e.g. the router's classify call, go under `other`)."""
    phases: dict[str, Phase] = {}
    for phase, calls, cost, cf, failed in db.execute(_SPLIT, (request_id,)):
        phases[phase] = Phase(int(calls), int(cost or 0), int(cf or 0), int(failed or 0))
    return Split(
        request_id, phases.get("plan", Phase()), phases.get("execute", Phase()), phases.get("other", Phase())
    )


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
