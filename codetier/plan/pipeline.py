"""Plan → execute → combine → verify → (apply), as one call any entry point
(the CLI, the language server) can make. Nothing is printed here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import engine
from codetier.config import Config
from codetier.engine import Result, Route
from codetier.errors import CodetierError
from codetier.plan import execute, patch, planner, settings, transaction, verify
from codetier.plan.execute import Execution, Outcome
from codetier.plan.schema import Plan
from codetier.plan.transaction import UndoPoint
from codetier.registry import Registry


@dataclass(frozen=True)
class PlanRun:
    request_id: str
    plan: Plan
    plan_result: Result
    execution: Execution
    edits: dict[str, patch.FileEdit]
    diff: str
    verdict: verify.Verdict
    applied: UndoPoint | None = None

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def error(self) -> str:
        failed = self.execution.failed
        if failed:
            lines = [f"subtask {o.subtask.id} failed: {o.error}" for o in failed]
            return "\n".join(lines) + "\nnothing was applied"
        if not self.verdict.ok:
            v = self.verdict
            return f"the combined change failed {v.stage}: {v.detail}\nnothing was applied"
        return ""


def run(
    text: str,
    root: Path,
    route: Route,
    reg: Registry,
    cfg: Config,
    ctx: engine.Context,
    named: Sequence[str] = (),
    *,
    on_plan: Callable[[Plan], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    buffers: Mapping[str, str] | None = None,
) -> PlanRun:
    """Plan and execute, then verify the combined change. The tree is not
    touched (see `apply`). Raises PlanFailed when no valid plan came back.

    `buffers` ({path: text}) are an editor's unsaved files: they stand in for
    the disk, and the language server applies the edits to them itself."""
    opts = settings.read(cfg)
    plan_ctx = dataclasses.replace(ctx, phase="plan")
    plan_result = planner.make_plan(text, root, route, reg, plan_ctx, named, opts, buffers)
    plan: Plan = plan_result.value
    if on_plan:
        on_plan(plan)
    ex = execute.run(plan, text, root, reg, ctx, opts.parallel, on_done, buffers)
    edits = ex.edits()
    diff = patch.render(edits)
    if ex.failed:
        verdict = verify.Verdict(False, "execute", "a subtask failed")
    else:
        on_disk = not buffers or all(
            (root / p).is_file() and (root / p).read_text("utf-8") == buffers[p]
            for p in edits
            if p in buffers
        )
        verdict = verify.combined(root, edits, opts.verify_command, opts.verify_timeout, against_tree=on_disk)
    return PlanRun(ctx.request_id, plan, plan_result, ex, edits, diff, verdict)


def apply(root: Path, done: PlanRun, *, force: bool = False) -> PlanRun:
    """Write a verified change all or nothing, recording an undo point.
    Raises ApplyRefused when a file holds uncommitted work and not `force`."""
    if not done.ok:
        raise CodetierError(done.error)
    point = transaction.apply(root, done.edits, done.request_id, force=force)
    return dataclasses.replace(done, applied=point)


def save_diff(root: Path, run: PlanRun) -> Path:
    """Keep an unapplied change so it can be applied later without paying again."""
    target = transaction.store(root).parent / "plans" / f"{run.request_id}.diff"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(run.diff, "utf-8")
    return target
