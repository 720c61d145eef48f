"""Budgets: the per-task, per-call, daily and per-tier caps, checked before each model
call; a task that would pass one steps down a tier (deep → balanced → fast) or, with
budget.mode = "stop", is refused. The check and a hold of the call's worst case are
recorded together (ledger/holds.py), so calls checked at once see each other."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codetier.errors import BudgetRefused
from codetier.registry import Registry

if TYPE_CHECKING:
    import sqlite3

    from codetier.engine import Link
    from codetier.providers.base import Call

STEP_DOWN = {"deep": ("balanced", "fast"), "balanced": ("fast",)}


@dataclass(frozen=True)
class Fitted:
    """A link that fits the budgets (maybe a cheaper one than asked), or why none does."""

    link: Link
    call: Call
    redacted: bool
    n_in: int
    estimate: int
    refused: BudgetRefused | None = None
    warning: str = ""


def check_budgets(
    reg: Registry,
    task_limit: int | None,
    estimate: int,
    spent_today: int,
    *,
    tier: str | None = None,
    spent_tier: int = 0,
) -> None:
    """Raise BudgetRefused naming the budget, its limit and the estimate."""
    limits = [
        (n, v) for n, v in (("per-task", task_limit), ("per-call", reg.per_call_micros)) if v is not None
    ]
    for name, limit in limits:
        if estimate > limit:
            raise BudgetRefused(name, limit, estimate)
    if reg.daily_micros is not None and spent_today + estimate > reg.daily_micros:
        raise BudgetRefused("daily", reg.daily_micros, spent_today + estimate)
    cap = reg.tier_daily_micros.get(tier) if tier else None
    if cap is not None and spent_tier + estimate > cap:
        raise BudgetRefused(f"{tier}-tier daily", cap, spent_tier + estimate)


def fit(
    first: Fitted,
    make: Callable[[str], Fitted | None],
    reg: Registry,
    task_limit: int | None,
    spent: Mapping[str, int],
    tried: set[str],
) -> Fitted:
    """Check `first` against the budgets; when one is reached and budget.mode is
    "step_down", try the cheaper model tiers in turn (deep → balanced → fast), each
    link as `make(tier)` builds it."""
    total = sum(spent.values())
    try:
        tier_spent = spent.get(first.link.tier, 0)
        check_budgets(reg, task_limit, first.estimate, total, tier=first.link.tier, spent_tier=tier_spent)
        return first
    except BudgetRefused as e:
        refused = e
    if reg.budget_mode != "step_down":
        return dataclasses.replace(first, refused=refused)
    for name in STEP_DOWN.get(first.link.tier, ()):
        if name in tried:
            continue
        cheaper = make(name)
        if cheaper is None:
            continue
        try:
            check_budgets(reg, task_limit, cheaper.estimate, total, tier=name, spent_tier=spent.get(name, 0))
        except BudgetRefused:
            continue
        warning = f"{refused.budget} budget reached: {first.link.tier} stepped down to {name} ({refused})"
        return dataclasses.replace(cheaper, warning=warning)
    return dataclasses.replace(first, refused=refused)


def fit_and_hold(
    db: sqlite3.Connection,
    first: Fitted,
    make: Callable[[str], Fitted | None],
    reg: Registry,
    task_limit: int | None,
    tried: set[str],
    day: dt.date,
) -> tuple[Fitted, int | None]:
    """`fit`, then hold the chosen link's estimate (ledger/holds.py). The fitting
    (which may build a cheaper link's prompt) runs outside the ledger's write lock; under
    it the choice is only checked again against what is spent and held by then, and
    fitted again if another call took the room meanwhile."""
    from codetier.ledger import holds

    def held(fitted: Fitted) -> Callable[[dict[str, int]], tuple[Fitted | None, str | None, int]]:
        def decide(spent: dict[str, int]) -> tuple[Fitted | None, str | None, int]:
            if fitted.refused is not None:
                return fitted, None, 0
            tier = fitted.link.tier
            try:
                check_budgets(reg, task_limit, fitted.estimate, sum(spent.values()), tier=tier,
                              spent_tier=spent.get(tier, 0))  # fmt: skip
            except BudgetRefused:
                return None, None, 0  # taken meanwhile
            return fitted, tier, fitted.estimate

        return decide

    for _ in range(3):
        spent = holds.spent_and_held(db, day)
        fitted = fit(first, make, reg, task_limit, spent, tried)
        chosen, hold = holds.checked(db, day, held(fitted), hold_ttl(reg))
        if chosen is not None:
            return chosen, hold

    # Still racing: fit under the lock this time.
    def decide(spent: dict[str, int]) -> tuple[Fitted, str | None, int]:
        f = fit(first, make, reg, task_limit, spent, tried)
        return f, (f.link.tier if f.refused is None else None), f.estimate

    return holds.checked(db, day, decide, hold_ttl(reg))


def hold_ttl(reg: Registry) -> float:
    """How long a budget hold outlives a process that died mid-call: the longest the call
    could take (every try timing out after the SDK waited up to a minute, as a 429's
    retry-after may ask), and a few minutes for the check of its answer."""
    return (reg.timeout_s + 60) * (reg.max_retries + 1) + 300
