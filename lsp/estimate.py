"""Action titles with the tier and a local cost estimate: no model call.

The estimate prices the first link of the task's chain: the input counted
locally (codetier.tokens) plus a typical answer for the action (capped at the
task's max_tokens). It is a guide, not the worst case `codetier ask --dry-run`
prints.
"""

from __future__ import annotations

import math

from codetier import pricing, router, tokens
from codetier.engine import Route
from codetier.registry import Registry

# A typical answer per task, in output tokens.
TYPICAL_OUTPUT = {
    "docstring": 120,
    "test_writing": 1_200,
    "code_review": 400,
    "explain": 500,
    "cross_file_refactor": 2_500,
    "format_fix": 300,  # only a model escalation writes anything
    "rename": 0,
}
SYSTEM_OVERHEAD = 120  # tokens of system prompt and instructions around the code


def route_for(reg: Registry, task: str) -> Route:
    """The task's chain from the registry, as the engine will run it."""
    spec = reg.task(task)
    links = router.links_for(spec.chain, reg)
    return Route(task, links[0].tier, links, (f"{task}: the editor's action",))


def micros(reg: Registry, task: str, context: str, tier: str | None = None) -> tuple[str, int]:
    """(tier, estimated micro-dollars) for running `task` over `context`, on its first
    tier or on `tier`."""
    spec = reg.task(task)
    link = router.links_for((tier,), reg)[0] if tier else route_for(reg, task).links[0]
    if link.model is None:
        return link.tier, 0
    n_in = tokens.estimate(context) + SYSTEM_OVERHEAD
    n_out = TYPICAL_OUTPUT.get(task, 500)
    n_out = min(n_out, spec.max_tokens) if spec.max_tokens else n_out
    return link.tier, pricing.cost_for(reg, link.model, pricing.Usage(input=n_in, output=n_out))


def money(value: int) -> str:
    """`~$0.004`, `~$0.12`; `$0` for the tool tier."""
    if value <= 0:
        return "$0"
    dollars = value / 1_000_000
    if dollars >= 0.01:
        return f"~${dollars:.2f}"
    decimals = -math.floor(math.log10(dollars))
    return f"~${dollars:.{decimals}f}"


def title(label: str, reg: Registry, task: str, context: str) -> str:
    tier, cost = micros(reg, task, context)
    return f"{label} · {tier} · {money(cost)}"
