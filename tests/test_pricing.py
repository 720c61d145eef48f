from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from codetier import config, registry
from codetier.pricing import Usage, cost_micros, counterfactual


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> registry.Registry:
    return registry.build(config.load(Path(tmp_path_factory.mktemp("p")), environ={}))


@pytest.mark.parametrize(
    ("model", "usage", "micros"),
    [
        # 1M input at $4 + 1M output at $20
        ("claude-opus-5-5", Usage(input=1_000_000, output=1_000_000), 24_000_000),
        ("claude-sonnet-5-5", Usage(input=1_000, output=500), 2_000 + 5_000),
        (
            "claude-sonnet-5-5",
            Usage(cache_write_5m=1_000, cache_write_1h=1_000, cache_read=10_000),
            2_500 + 4_000 + 2_000,
        ),
        ("claude-haiku-5-5", Usage(input=100_000, output=1_000), 10_000 + 500),
        # past 100K prompt tokens (cache reads count) the whole request is billed at long rates
        ("claude-haiku-5-5", Usage(input=90_000, cache_read=20_000, output=1_000), 45_000 + 1_000 + 2_500),
        ("claude-haiku-4-5", Usage(input=1_000, output=1_000), 1_000 + 5_000),
        ("claude-haiku-5-5", Usage(input=3, output=1), 1),  # rounds once per request
    ],
)
def test_cost_in_micro_dollars(reg: registry.Registry, model: str, usage: Usage, micros: int) -> None:
    assert cost_micros(reg.price(model, dt.date(2026, 11, 21)), usage) == micros


def test_batch_halves_the_price(reg: registry.Registry) -> None:
    price = reg.price("claude-sonnet-5-5")
    assert cost_micros(price, Usage(input=1_000, output=1_000), batch=True) == 6_000


def test_counterfactual_prices_the_same_tokens_at_the_deep_model(reg: registry.Registry) -> None:
    usage = Usage(input=10_000, output=1_000, cache_read=5_000)
    assert counterfactual(reg, usage) == 40_000 + 20_000 + 1_000


def test_price_before_any_effective_date_uses_the_oldest_row(reg: registry.Registry) -> None:
    assert reg.price("claude-opus-5-5", dt.date(2020, 1, 1)).input == 4.0
