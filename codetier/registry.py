"""The registry: tiers, models, prices and task types, typed and validated.

Built from a merged `Config`; every error names the file and the key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from codetier.config import ENV_PREFIX, Config
from codetier.errors import ConfigError

TIERS = ("tool", "fast", "balanced", "deep")
OFFLINE = "offline"
EFFORTS = ("low", "medium", "high", "xhigh", "max")
PROVIDERS = ("anthropic", "tool", "offline")
BUDGET_MODES = ("step_down", "stop")
TASK_TYPES = (
    "commit_message",
    "changelog_entry",
    "changelog_release",
    "format_fix",
    "rename",
    "docstring",
    "classify",
    "explain",
    "test_writing",
    "code_review",
    "implement",
    "architecture",
    "cross_file_refactor",
    "debug",
)


class Tier(NamedTuple):
    name: str
    provider: str
    model: str | None


class Model(NamedTuple):
    name: str
    window: int
    max_output: int
    effort: bool


class Price(NamedTuple):
    """USD per million tokens from `effective` on."""

    model: str
    effective: dt.date
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    batch_discount: float = 0.5
    long_threshold: int | None = None
    long_rates: Mapping[str, float] = MappingProxyType({})


class Task(NamedTuple):
    name: str
    tier: str
    fallbacks: tuple[str, ...]
    max_tokens: int
    effort: str | None
    max_cost_micros: int | None
    variants: Mapping[str, str]
    triggers: tuple[str, ...]

    @property
    def chain(self) -> tuple[str, ...]:
        """The tier first, then each fallback once."""
        return tuple(dict.fromkeys((self.tier, *self.fallbacks)))

    def variant(self, tier: str) -> str:
        return self.variants.get(tier, "standard")


class Registry(NamedTuple):
    tiers: Mapping[str, Tier]
    models: Mapping[str, Model]
    prices: tuple[Price, ...]
    tasks: Mapping[str, Task]
    baseline_model: str
    daily_micros: int | None
    per_call_micros: int | None
    risk_words: tuple[str, ...]
    many_modules: int
    classifier: bool
    store_prompts: bool
    timeout_s: float = 120.0
    max_retries: int = 2
    # Daily caps per tier; "step_down" moves a capped task to a cheaper tier, "stop" refuses it.
    tier_daily_micros: Mapping[str, int] = MappingProxyType({})
    budget_mode: str = "step_down"
    session_gap_minutes: int = 30

    def task(self, name: str) -> Task:
        try:
            return self.tasks[name]
        except KeyError:
            known = ", ".join(sorted(self.tasks))
            raise ConfigError("request", "task", f"unknown task type {name!r}; known: {known}") from None

    def price(self, model: str, on: dt.date | None = None) -> Price:
        """The price row in effect for `model` on a date (today by default)."""
        day = on or dt.date.today()
        rows = [p for p in self.prices if p.model == model and p.effective <= day]
        if not rows:
            rows = [p for p in self.prices if p.model == model]
        if not rows:
            raise ConfigError("registry", f"prices.{model}", "no price for this model")
        return max(rows, key=lambda p: p.effective)


class Reader:
    """Typed access to the merged config that names the source of a bad value.

    Feature modules validate their own sections with it.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def fail(self, key: str, message: str) -> ConfigError:
        source = self.cfg.origin.get(key)
        if source is None:  # a table: find the file that set any key below it
            source = next((s for k, s in self.cfg.origin.items() if k.startswith(key + ".")), "config")
        return ConfigError(source, key, message)

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.cfg.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a table, got {value!r}")
        return value

    def number(self, key: str, *, default: float | None = None, integer: bool = False) -> float | None:
        value = self.cfg.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {value!r}")
        if integer and not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, got {value!r}")
        if value < 0:
            raise self.fail(key, f"expected a number >= 0, got {value!r}")
        return value

    def string(self, key: str, choices: tuple[str, ...] | None = None, default: Any = None) -> Any:
        value = self.cfg.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.cfg.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        return tuple(value)


def _micros(usd: float | None) -> int | None:
    return None if usd is None else round(usd * 1_000_000)


def unknown(cfg: Config) -> list[ConfigError]:
    """One error per key codetier does not read (a typo would otherwise be silent)."""
    from codetier import schema
    from codetier.config import default_layer

    defaults = default_layer().data
    r = Reader(cfg)
    found = [
        r.fail(key, "unknown key" + schema.suggestion(key, defaults))
        for key in schema.unknown_keys(cfg.data, defaults)
    ]
    for name in cfg.stray:
        guess = schema.env_suggestion(name[len(ENV_PREFIX) :].lower(), defaults)
        found.append(
            ConfigError(
                "environment",
                name,
                "not a codetier setting or variable: settings are CODETIER_<SECTION>__<KEY>" + guess,
            )
        )
    return found


def problems(cfg: Config) -> list[ConfigError]:
    """Every unknown key, then the first bad value (for `codetier config --check`)."""
    found = unknown(cfg)
    try:
        _build(cfg)
    except ConfigError as e:
        found.append(e)
    return found


def build(cfg: Config) -> Registry:
    """Validate the merged config into a Registry, or raise the first ConfigError."""
    for error in unknown(cfg):
        raise error
    return _build(cfg)


def _build(cfg: Config) -> Registry:
    r = Reader(cfg)
    tiers = {}
    for name in r.table("tiers"):
        if name not in TIERS:
            raise r.fail(f"tiers.{name}", f"expected one of {', '.join(TIERS)}, got {name!r}")
        provider = r.string(f"tiers.{name}.provider", PROVIDERS, default="anthropic")
        model = r.string(f"tiers.{name}.model")
        if provider == "anthropic" and not model:
            raise r.fail(f"tiers.{name}.model", "expected a model id for an anthropic tier")
        tiers[name] = Tier(name, provider, model)
    models = {}
    for name in r.table("models"):
        key = f"models.{name}"
        window = int(r.number(f"{key}.window", default=200_000, integer=True) or 0)
        out = int(r.number(f"{key}.max_output", default=64_000, integer=True) or 0)
        models[name] = Model(name, window, out, r.boolean(f"{key}.effort", False))
    prices = tuple(_price(r, i, row) for i, row in enumerate(cfg.get("prices", [])))
    tasks = {name: _task(r, name, tiers) for name in r.table("tasks")}
    reg = Registry(
        tiers=tiers,
        models=models,
        prices=prices,
        tasks=tasks,
        baseline_model=r.string("baseline.model", default="claude-opus-5-5"),
        daily_micros=_micros(r.number("budget.daily_usd")),
        per_call_micros=_micros(r.number("budget.per_call_usd")),
        risk_words=r.strings("router.risk_words"),
        many_modules=int(r.number("router.many_modules", default=3, integer=True) or 3),
        classifier=r.boolean("router.classifier", True),
        store_prompts=r.boolean("ledger.store_prompts", False),
        timeout_s=float(r.number("anthropic.timeout_s", default=120.0) or 120.0),
        max_retries=int(r.number("anthropic.max_retries", default=2, integer=True) or 0),
        tier_daily_micros=_tier_caps(r),
        budget_mode=r.string("budget.mode", BUDGET_MODES, default="step_down"),
        session_gap_minutes=int(r.number("spend.session_gap_minutes", default=30, integer=True) or 30),
    )
    priced = {p.model for p in prices}
    for tier in tiers.values():
        if tier.model and tier.model not in priced:
            raise r.fail(f"tiers.{tier.name}.model", f"model {tier.model!r} has no price in [[prices]]")
    if reg.baseline_model not in priced:
        raise r.fail("baseline.model", f"model {reg.baseline_model!r} has no price in [[prices]]")
    return reg


def _tier_caps(r: Reader) -> dict[str, int]:
    caps = {}
    for name in r.table("budget.tier_daily_usd"):
        if name not in TIERS:
            raise r.fail(f"budget.tier_daily_usd.{name}", f"expected one of {', '.join(TIERS)}, got {name!r}")
        caps[name] = _micros(r.number(f"budget.tier_daily_usd.{name}")) or 0
    return caps


def _price(r: Reader, i: int, row: Any) -> Price:
    model = row.get("model") if isinstance(row, Mapping) else None
    key = f"prices.{model}@{row.get('effective') if isinstance(row, Mapping) else i}"
    if not isinstance(model, str):
        raise r.fail(key, "expected a `model` string in each [[prices]] row")
    eff = row.get("effective")
    if isinstance(eff, str):
        try:
            eff = dt.date.fromisoformat(eff)
        except ValueError:
            raise r.fail(key, f"expected `effective` as YYYY-MM-DD, got {eff!r}") from None
    if not isinstance(eff, dt.date):
        raise r.fail(key, f"expected `effective` as YYYY-MM-DD, got {eff!r}")
    rates: dict[str, float] = {}
    for name in (
        "input",
        "output",
        "cache_write_5m",
        "cache_write_1h",
        "cache_read",
        "batch_discount",
    ):
        value = row.get(name, 0.5 if name == "batch_discount" else None)
        if not _is_price(value):
            raise r.fail(f"{key}.{name}", f"expected a price >= 0 in USD per million tokens, got {value!r}")
        rates[name] = float(value)
    long_rates = {}
    for k, v in row.items():
        if k.startswith("long_") and k != "long_threshold":
            if not _is_price(v):
                raise r.fail(f"{key}.{k}", f"expected a price >= 0 in USD per million tokens, got {v!r}")
            long_rates[k[5:]] = float(v)
    threshold = row.get("long_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0
    ):
        raise r.fail(f"{key}.long_threshold", f"expected a whole number of tokens, got {threshold!r}")
    return Price(model, eff, long_threshold=threshold, long_rates=long_rates, **rates)


def _is_price(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value >= 0
    )


def _task(r: Reader, name: str, tiers: Mapping[str, Tier]) -> Task:
    key = f"tasks.{name}"
    if name not in TASK_TYPES and not isinstance(r.cfg.get(f"{key}.tier"), str):
        raise r.fail(key, f"unknown task type {name!r} (to add a task type, give it a tier)")
    tier = r.string(f"{key}.tier", TIERS)
    fallbacks = r.strings(f"{key}.fallbacks")
    for fb in fallbacks:
        if fb not in (*TIERS, OFFLINE):
            raise r.fail(
                f"{key}.fallbacks",
                f"expected tiers from {', '.join((*TIERS, OFFLINE))}, got {fb!r}",
            )
    for t in (tier, *fallbacks):
        if t != OFFLINE and t not in tiers:
            raise r.fail(f"{key}.tier", f"tier {t!r} is not defined under [tiers]")
    variants = r.table(f"{key}.variant")
    for vt, vname in variants.items():
        if vt not in TIERS or not isinstance(vname, str):
            raise r.fail(f"{key}.variant.{vt}", 'expected tier = "variant name"')
    max_tokens = int(r.number(f"{key}.max_tokens", default=4000, integer=True) or 0)
    if max_tokens < 1 and any(tiers[t].provider == "anthropic" for t in (tier, *fallbacks) if t in tiers):
        raise r.fail(f"{key}.max_tokens", f"expected a whole number >= 1 for a model tier, got {max_tokens}")
    return Task(
        name=name,
        tier=tier,
        fallbacks=fallbacks,
        max_tokens=max_tokens,
        effort=r.string(f"{key}.effort", EFFORTS),
        max_cost_micros=_micros(r.number(f"{key}.max_cost_usd")),
        variants=dict(variants),
        triggers=r.strings(f"{key}.triggers"),
    )
