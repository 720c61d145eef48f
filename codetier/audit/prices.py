"""Pricing transcript usage fast: price rows by (model, day), and per-token
rates looked up once, for hundreds of thousands of entries."""

from __future__ import annotations

import re
from typing import Any

from codetier.registry import Price, Registry

_DATED = re.compile(r"-\d{8}$")


class Prices:
    """Price lookups by (model, day), with dated ids (`claude-sonnet-4-5-20250929`) folded."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.cache: dict[tuple[str, str], Price | None] = {}
        self.unpriced: set[str] = set()

    def get(self, model: str, day: str) -> Price | None:
        key = (model, day)
        if key not in self.cache:
            import datetime as dt

            price = None
            for name in (model, _DATED.sub("", model)):
                if any(p.model == name for p in self.reg.prices):
                    price = self.reg.price(name, dt.date.fromisoformat(day))
                    break
            if price is None:
                self.unpriced.add(model)
            self.cache[key] = price
        return self.cache[key]


def routed_model(reg: Registry, tier: str | None) -> str | None:
    """The model codetier would have used; tool-tier chores are priced at the fast
    model, not $0, since a transcript turn does more than the deterministic part."""
    name = "fast" if tier in (None, "tool") else tier
    t = reg.tiers.get(name) if name else None
    return t.model if t is not None else None


Rates = tuple[float, float, float, float, float, int | None, Any]  # 5 rates, long threshold, long Rates


def rates_of(price: Price) -> Rates:
    """A price's per-token rates, and those past its long-context threshold, looked up once."""
    rates = (price.input, price.output, price.cache_write_5m, price.cache_write_1h, price.cache_read)
    if price.long_threshold is None:
        return (*rates, None, None)
    long = price.long_rates  # the whole request at the long rates, where it has them
    names = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    longer = tuple(long.get(name, rate) for name, rate in zip(names, rates, strict=True))
    return (*rates, price.long_threshold, (*longer, None, None))


def priced(r: Rates, n_in: int, n_out: int, w5: int, w1: int, cr: int) -> int:
    """`pricing.cost_micros` without building a Usage (same arithmetic, same order;
    a test holds the two equal): it runs once or twice per usage entry."""
    if r[5] is not None and n_in + w5 + w1 + cr > r[5]:
        r = r[6]
    return round(n_in * r[0] + n_out * r[1] + w5 * r[2] + w1 * r[3] + cr * r[4])


def cost(price: Price, n_in: int, n_out: int, w5: int, w1: int, cr: int) -> int:
    return priced(rates_of(price), n_in, n_out, w5, w1, cr)
