"""Run a plan's subtasks by dependency level, in parallel (bounded), each on
its own tier through the engine, so a failed check escalates that subtask alone.

A subtask's check: its diff parses, applies to the current content, touches
only its files, and every Python file it leaves still parses. Nothing here
writes to the working tree: edits accumulate in memory.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from codetier import engine, pricing, router
from codetier.engine import Check, Job, Link, Result
from codetier.errors import CodetierError
from codetier.plan import handoff, patch
from codetier.plan.handoff import DepResult, Handoff
from codetier.plan.schema import Plan, Subtask, levels
from codetier.providers.base import Call, Completion
from codetier.registry import TIERS, Registry

DEFAULT_WINDOW = 200_000  # for a model the registry does not describe


@dataclass(frozen=True)
class Outcome:
    """One subtask's end: its result (None when every link failed) and what it changed."""

    subtask: Subtask
    result: Result | None
    edits: tuple[patch.FileEdit, ...] = ()
    summary: str = ""
    diff: str = ""
    cost_micros: int = 0  # every answer's price, failed checks included (as in the ledger)
    counterfactual_micros: int = 0
    answers: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class Execution:
    original: dict[str, str | None]
    state: dict[str, str | None]
    outcomes: list[Outcome]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def edits(self) -> dict[str, patch.FileEdit]:
        return {
            p: patch.FileEdit(p, self.original[p], self.state[p])
            for p in self.state
            if self.state[p] != self.original[p]
        }


def read_files(
    root: Path, paths: Sequence[str], buffers: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Current contents of the plan's files (an editor's unsaved buffers win over
    the disk); None for a file that does not exist."""
    out: dict[str, str | None] = {}
    for path in paths:
        if buffers and path in buffers:
            out[path] = buffers[path]
            continue
        full = root / path
        if not full.is_file():
            out[path] = None
            continue
        try:
            out[path] = full.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise CodetierError(f"{path}: not UTF-8 text; a plan can only edit text files") from None
    return out


def python_problem(path: str, text: str | None) -> str | None:
    if text is None or not path.endswith((".py", ".pyi")):
        return None
    try:
        ast.parse(text, filename=path)
    except SyntaxError as e:
        return f"{path} would not parse: line {e.lineno}: {e.msg}"
    return None


def check_diff(diff_text: str, contents: Mapping[str, str | None]) -> list[patch.FileEdit]:
    """Raise PatchError unless the diff applies to `contents` and leaves Python parsing."""
    edits = patch.apply(diff_text, contents)
    for e in edits:
        problem = python_problem(e.path, e.after)
        if problem:
            raise patch.PatchError(problem)
    return edits


def subtask_job(s: Subtask, ho: Handoff, reg: Registry, spent: list[tuple[int, int]]) -> Job:
    spec = reg.task(s.task)

    def build(link: Link, failures: Sequence[str]) -> Call:
        notes = [f"- {f}" for f in failures]
        extra = ["Earlier attempts failed; avoid these problems:", *notes] if notes else []
        prompt = handoff.fit(ho, _window(reg, link), extra) or ho.render(3)
        if extra:
            prompt += "\n\n" + "\n".join(extra)
        return Call(s.task, link.model, handoff.SYSTEM, prompt, spec.max_tokens)

    def check(c: Completion) -> Check:
        if c.model is not None:
            spent.append((pricing.cost_for(reg, c.model, c.usage), pricing.counterfactual(reg, c.usage)))
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        try:
            diff_text = patch.extract_diff(c.text)
            edits = check_diff(diff_text, ho.files)
        except patch.PatchError as e:
            return Check(False, str(e))
        return Check(True, value=(edits, patch.summary_of(c.text), diff_text))

    return Job(s.task, build, check)


def chain_for(s: Subtask, reg: Registry) -> tuple[str, ...]:
    """The subtask's tier, then every tier of its task's chain above it: a
    failed check escalates one rung at a time (fast → balanced → deep)."""
    rank = TIERS.index
    above = {t for t in reg.task(s.task).chain if t in TIERS and rank(t) > rank(s.tier)}
    return (s.tier, *sorted(above, key=rank))


def links_that_fit(s: Subtask, ho: Handoff, reg: Registry) -> tuple[Link, ...]:
    """The subtask's chain, without models whose window is too small for its handoff."""
    return tuple(
        link
        for link in router.links_for(chain_for(s, reg), reg)
        if link.model is None or handoff.fit(ho, _window(reg, link)) is not None
    )


def _window(reg: Registry, link: Link) -> int:
    model = reg.models.get(link.model) if link.model else None
    return model.window if model else DEFAULT_WINDOW


def run_one(s: Subtask, ho: Handoff, reg: Registry, ctx: engine.Context) -> Outcome:
    spent: list[tuple[int, int]] = []
    links = links_that_fit(s, ho, reg)
    if not links:
        return Outcome(s, None, error="its files do not fit in 70% of any model window in its chain")
    route = engine.Route(s.task, links[0].tier, links)
    try:
        result: Result | None = engine.run(subtask_job(s, ho, reg, spent), route, reg, ctx)
        error = ""
    except CodetierError as e:  # every link failed, a budget, no key
        result, error = None, str(e)
    cost, cf, answers = sum(c for c, _ in spent), sum(c for _, c in spent), len(spent)
    if result is None:
        return Outcome(s, None, cost_micros=cost, counterfactual_micros=cf, answers=answers, error=error)
    edits, summary, diff_text = result.value
    return Outcome(s, result, tuple(edits), summary, diff_text, cost, cf, answers)


def run(
    plan: Plan,
    request: str,
    root: Path,
    reg: Registry,
    ctx: engine.Context,
    parallel: int,
    on_done: Callable[[Outcome], None] | None = None,
    buffers: Mapping[str, str] | None = None,
) -> Execution:
    """Level by level; stop after a level in which any subtask failed."""
    ctx = dataclasses.replace(ctx, phase="execute")
    files = list(dict.fromkeys(f for s in plan.subtasks for f in s.files))
    original = read_files(root, files, buffers)
    ex = Execution(original, dict(original), [])
    done: dict[str, Outcome] = {}
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="codetier-plan")
    try:
        for level in levels(plan):
            snapshot = dict(ex.state)
            futures = {}
            for s in level:
                deps = tuple(
                    DepResult(d, done[d].summary, tuple(e.path for e in done[d].edits), done[d].diff)
                    for d in s.depends_on
                )
                ho = Handoff(request, plan, s, deps, {p: snapshot[p] for p in s.files})
                futures[pool.submit(run_one, s, ho, reg, ctx)] = s.id
            for fut in as_completed(futures):
                outcome = fut.result()
                done[outcome.subtask.id] = outcome
                if on_done:
                    on_done(outcome)
            for s in level:  # plan order, so tables and state are deterministic
                ex.outcomes.append(done[s.id])
                for e in done[s.id].edits:
                    ex.state[e.path] = e.after
            if ex.failed:
                break
    finally:
        # On ^C (or an error in on_done) don't start queued subtasks; running calls finish on their own.
        pool.shutdown(wait=False, cancel_futures=True)
    return ex
