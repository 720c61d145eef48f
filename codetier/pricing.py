"""Token usage and its price, in integer micro-dollars so sums are exact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from codetier.registry import Price, Registry


@dataclass(frozen=True)
class Usage:
    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0

    @property
    def prompt_total(self) -> int:
        """All input tokens: fresh, cache writes and cache reads."""
        return self.input + self.cache_write_5m + self.cache_write_1h + self.cache_read


def cost_micros(price: Price, usage: Usage, *, batch: bool = False) -> int:
    """What `usage` costs at `price`. Past the long-prompt threshold the whole
    request is billed at the long rates (Haiku 5.5)."""
    rates = {
        "input": price.input,
        "output": price.output,
        "cache_write_5m": price.cache_write_5m,
        "cache_write_1h": price.cache_write_1h,
        "cache_read": price.cache_read,
    }
    if price.long_threshold is not None and usage.prompt_total > price.long_threshold:
        rates.update(price.long_rates)
    # tokens x USD/MTok is micro-dollars exactly; round once per request.
    total = (
        usage.input * rates["input"]
        + usage.output * rates["output"]
        + usage.cache_write_5m * rates["cache_write_5m"]
        + usage.cache_write_1h * rates["cache_write_1h"]
        + usage.cache_read * rates["cache_read"]
    )
    if batch:
        total *= price.batch_discount
    return round(total)


def cost_for(reg: Registry, model: str | None, usage: Usage, on: dt.date | None = None) -> int:
    if model is None:
        return 0
    return cost_micros(reg.price(model, on), usage)


def counterfactual(reg: Registry, usage: Usage, on: dt.date | None = None) -> int:
    """The same tokens priced at the baseline (deep) model."""
    return cost_micros(reg.price(reg.baseline_model, on), usage)
