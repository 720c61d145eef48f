"""One request from the ledger: what its plan call, its execution and any
other calls cost, against sending every call to the deep model."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

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
