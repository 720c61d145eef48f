"""The [plan] config section, validated with errors that name the file and key."""

from __future__ import annotations

from dataclasses import dataclass

from codetier.config import Config
from codetier.registry import Reader

# Hard limits that keep a runaway plan from spending without bound.
MAX_PARALLEL = 32


@dataclass(frozen=True)
class PlanSettings:
    verify_command: str
    parallel: int
    map_tokens: int
    context_tokens: int
    verify_timeout: float
    max_subtasks: int


def read(cfg: Config) -> PlanSettings:
    r = Reader(cfg)
    parallel = int(r.number("plan.parallel", default=4, integer=True) or 0)
    if not 1 <= parallel <= MAX_PARALLEL:
        raise r.fail("plan.parallel", f"expected a whole number from 1 to {MAX_PARALLEL}, got {parallel}")
    max_subtasks = int(r.number("plan.max_subtasks", default=12, integer=True) or 0)
    if max_subtasks < 1:
        raise r.fail("plan.max_subtasks", f"expected a whole number >= 1, got {max_subtasks}")
    return PlanSettings(
        verify_command=(r.string("plan.verify_command", default="") or "").strip(),
        parallel=parallel,
        map_tokens=int(r.number("plan.map_tokens", default=6_000, integer=True) or 0),
        context_tokens=int(r.number("plan.context_tokens", default=24_000, integer=True) or 0),
        verify_timeout=float(r.number("plan.verify_timeout", default=900) or 900),
        max_subtasks=max_subtasks,
    )
