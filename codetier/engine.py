"""Runs a Route: estimate → budgets → provider → the chore's check → ledger
row → escalate to the next link on failure, with the reason in the prompt.

Knows no click, no LSP, no socket: entry points and chores call `run`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codetier import budgets, pricing, tokens
from codetier.budgets import Fitted
from codetier.errors import AllAttemptsFailed, NoKeyError
from codetier.providers.base import Call, Completion, Provider, ProviderError
from codetier.registry import Registry

if TYPE_CHECKING:
    import sqlite3

# The ledger, the providers and the redaction patterns load when a route runs,
# not when one is only computed: `codetier route` stays fast.


@dataclass(frozen=True)
class Link:
    """One step of a chain: a tier, the provider that serves it, its model."""

    tier: str
    provider: str
    model: str | None

    @property
    def label(self) -> str:
        return self.model or self.provider


@dataclass(frozen=True)
class Route:
    task: str
    tier: str
    links: tuple[Link, ...]
    reasons: tuple[str, ...] = ()
    context_tokens: int = 0


@dataclass(frozen=True)
class Check:
    ok: bool
    reason: str = ""
    value: Any = None


@dataclass(frozen=True)
class Job:
    """What a chore hands the engine: how to build each attempt's call (given
    the failures so far) and how to check its output."""

    task: str
    build: Callable[[Link, Sequence[str]], Call]
    check: Callable[[Completion], Check]
    redacted: bool = False


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Context:
    source: str = "cli"
    repo: str | None = None
    session: str | None = None
    request_id: str = field(default_factory=lambda: "ct_" + uuid.uuid4().hex[:16])
    now: Callable[[], dt.datetime] = _utcnow
    phase: str | None = None  # "plan" / "execute" for plan → execute requests
    cache_key: str | None = None  # set when the daemon precomputes a draft


@dataclass(frozen=True)
class Attempt:
    link: Link
    outcome: str
    reason: str
    cost_micros: int
    latency_ms: int

    def line(self) -> str:
        """`balanced (claude-sonnet-5-5): provider error: the API is overloaded (529)`."""
        who = self.link.tier if self.link.label == self.link.tier else f"{self.link.tier} ({self.link.label})"
        what = self.outcome.replace("_", " ")
        return f"{who}: {what}: {self.reason}" if self.reason else f"{who}: {what}"


@dataclass(frozen=True)
class Result:
    request_id: str
    completion: Completion
    value: Any
    link: Link
    attempts: tuple[Attempt, ...]
    # Things the user should see next to the answer (e.g. a budget step-down).
    warnings: tuple[str, ...] = ()

    @property
    def cost_micros(self) -> int:
        return sum(a.cost_micros for a in self.attempts)


def estimate_micros(reg: Registry, call: Call) -> tuple[int, int]:
    """(input tokens, worst-case cost): input counted locally, output at max_tokens."""
    n_in = tokens.estimate(call.system, call.prompt)
    if call.model is None:
        return n_in, 0
    return n_in, pricing.cost_for(reg, call.model, pricing.Usage(input=n_in, output=call.max_tokens))


def prepare(job: Job, link: Link, failures: Sequence[str], reg: Registry) -> tuple[Call, bool]:
    """Build a link's call; a model call gets the SDK settings, the task's
    effort when the model takes one (never a parameter it rejects), and is redacted."""
    call = job.build(link, tuple(failures))
    if link.model is None:
        return call, job.redacted
    model = reg.models.get(link.model)
    effort = reg.task(job.task).effort if model is not None and model.effort else None
    call = dataclasses.replace(call, timeout=reg.timeout_s, max_retries=reg.max_retries, effort=effort)
    call, found = _redacted(call)
    return call, job.redacted or found


@dataclass
class _Recorder:
    """Writes one ledger row per attempt and keeps the attempts for the result."""

    db: sqlite3.Connection
    ctx: Context
    job: Job
    reg: Registry
    attempts: list[Attempt] = field(default_factory=list)

    def write(
        self,
        number: int,
        fitted: Fitted,
        started: dt.datetime,
        outcome: str,
        reason: str,
        completion: Completion | None = None,
        latency_ms: int = 0,
    ) -> None:
        link, reg = fitted.link, self.reg
        usage = completion.usage if completion else pricing.Usage()
        # The reply may name a dated version with no price row: price the model we asked for.
        priced = {p.model for p in reg.prices}
        billed = completion.model if completion and completion.model in priced else link.model
        cost = pricing.cost_for(reg, billed, usage) if completion and link.model else 0
        if link.model is None and completion is not None:
            # Deterministic work: price what the deep model would have read and written.
            usage_cf = pricing.Usage(input=fitted.n_in, output=tokens.estimate(completion.text))
        else:
            usage_cf = usage
        from codetier import ledger

        ledger.record(
            self.db,
            ledger.Row(
                ts=started,
                source=self.ctx.source,
                request_id=self.ctx.request_id,
                attempt=number,
                task=self.job.task,
                tier=link.tier,
                provider=link.provider,
                model=(completion.model if completion and completion.model else link.model),
                session=self.ctx.session,
                repo=self.ctx.repo,
                input_tokens=usage.input,
                output_tokens=usage.output,
                cache_write_5m_tokens=usage.cache_write_5m,
                cache_write_1h_tokens=usage.cache_write_1h,
                cache_read_tokens=usage.cache_read,
                cost_micros=cost,
                counterfactual_micros=pricing.counterfactual(reg, usage_cf) if completion else 0,
                latency_ms=latency_ms,
                outcome=outcome,
                reason=reason or fitted.warning or None,
                redacted=fitted.redacted,
                provider_request_id=completion.request_id if completion else None,
                prompt=fitted.call.prompt if reg.store_prompts else None,
                phase=self.ctx.phase,
                cache_key=self.ctx.cache_key,
            ),
        )
        self.attempts.append(Attempt(link, outcome, reason, cost, latency_ms))


def run(
    job: Job,
    route: Route,
    reg: Registry,
    ctx: Context | None = None,
    *,
    registry_of_providers: Mapping[str, Callable[[], Provider]] | None = None,
) -> Result:
    """Try each link in turn until one passes its check; record every attempt."""
    from codetier import ledger, providers
    from codetier.ledger import holds

    ctx = ctx or Context()
    factories = registry_of_providers or providers.PROVIDERS
    task = reg.task(job.task)
    failures: list[str] = []
    warnings: list[str] = []
    no_key: NoKeyError | None = None
    dead: set[str] = set()  # providers that failed in a way escalation cannot fix
    db = ledger.connect()
    rec = _Recorder(db, ctx, job, reg)
    try:
        for number, first in enumerate(route.links, start=1):
            if first.provider in dead:
                continue
            call, redacted = prepare(job, first, failures, reg)
            fitted = Fitted(first, call, redacted, *estimate_micros(reg, call))
            started = ctx.now()
            hold = None
            if first.model is not None:
                tried = {a.link.tier for a in rec.attempts if a.outcome != "budget_refused"}
                day = started.astimezone().date()
                make = functools.partial(_fitted_for, job, failures, reg)
                fitted, hold = budgets.fit_and_hold(db, fitted, make, reg, task.max_cost_micros, tried, day)
                if fitted.warning:
                    warnings.append(fitted.warning)
            with holds.released(db, hold):
                link = fitted.link
                if fitted.refused is not None:
                    rec.write(number, fitted, started, "budget_refused", str(fitted.refused))
                    failures.append(f"{link.label}: {fitted.refused}")
                    continue
                t0 = time.perf_counter()
                try:
                    completion = factories[link.provider]().complete(fitted.call)
                except NoKeyError:
                    no_key = NoKeyError(f"the {job.task} task")
                    failures.append(f"{link.label}: no API key")
                    continue
                except ProviderError as e:
                    rec.write(number, fitted, started, "provider_error", str(e), latency_ms=_ms(t0))
                    failures.append(f"{link.label}: {e}")
                    if not e.retryable:  # e.g. a rejected key: no other model of this provider does better
                        dead.add(link.provider)
                    continue
                latency = _ms(t0)
                verdict = job.check(completion)
                if not verdict.ok:
                    rec.write(number, fitted, started, "check_failed", verdict.reason, completion, latency)
                    failures.append(f"the previous answer was rejected: {verdict.reason}")
                    continue
                rec.write(number, fitted, started, "ok", "", completion, latency)
                return Result(
                    ctx.request_id, completion, verdict.value, link, tuple(rec.attempts), tuple(warnings)
                )
    finally:
        db.close()
    if no_key is not None and not rec.attempts:
        raise no_key  # nothing was tried: the only links needed a model
    lines = [a.line() for a in rec.attempts]
    if no_key is not None:
        lines.append(str(no_key))
    raise AllAttemptsFailed(lines)


def _fitted_for(job: Job, failures: Sequence[str], reg: Registry, tier: str) -> Fitted | None:
    """A cheaper tier's link, its call built, for budgets to step down to (None: no model)."""
    t = reg.tiers.get(tier)
    if t is None or t.model is None:
        return None
    link = Link(tier, t.provider, t.model)
    call, redacted = prepare(job, link, failures, reg)
    return Fitted(link, call, redacted, *estimate_micros(reg, call))


def _redacted(call: Call) -> tuple[Call, bool]:
    """Nothing secret-shaped reaches a model: redact the system and the prompt."""
    from codetier import redact

    system, prompt = redact.redact(call.system), redact.redact(call.prompt)
    if not (system.count or prompt.count):
        return call, False
    return dataclasses.replace(call, system=system.text, prompt=prompt.text), True


def _ms(t0: float) -> int:
    return round((time.perf_counter() - t0) * 1000)
