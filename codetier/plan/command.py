"""`codetier ask` for planned tasks: run the pipeline, print the combined diff
and the cost per subtask, apply on --apply."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codetier import engine, ledger, output
from codetier.config import Config
from codetier.engine import Route
from codetier.errors import CodetierError
from codetier.plan import accounting, pipeline, transaction
from codetier.plan.execute import Outcome
from codetier.plan.planner import PlanFailed
from codetier.plan.schema import Plan, levels
from codetier.plan.transaction import ApplyRefused
from codetier.registry import Registry


def _rel(root: Path, p: Path) -> str:
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(p)


def run(
    text: str,
    route: Route,
    reg: Registry,
    cfg: Config,
    root: Path,
    files: Sequence[Path],
    ctx: engine.Context,
    *,
    apply: bool,
    force: bool,
    as_json: bool,
) -> None:
    named = [_rel(root, p) for p in files]

    def on_plan(plan: Plan) -> None:
        if not as_json:
            n, k = len(plan.subtasks), len(levels(plan))
            output.err(f"plan: {plan.goal} ({n} subtasks in {k} levels)")
        if apply and not force:  # refuse now rather than after paying for the execution
            transaction.refuse_uncommitted(
                root, [f for s in plan.subtasks for f in s.files], "nothing was executed"
            )

    def on_done(o: Outcome) -> None:
        if not as_json:
            where = f"{o.result.link.tier}:{o.result.link.label}" if o.result else "failed"
            output.err(f"  {o.subtask.id}: {where}")

    try:
        done = pipeline.run(text, root, route, reg, cfg, ctx, named, on_plan=on_plan, on_done=on_done)
    except (PlanFailed, ApplyRefused):
        failed = _split(ctx.request_id)
        if failed.cost_micros:  # nothing was spent: no "$0.00 + $0.00" line before the error
            output.err(accounting.summary_line(failed))
        raise
    split = _split(done.request_id)
    refused: ApplyRefused | None = None
    if apply and done.ok:
        try:
            done = pipeline.apply(root, done, force=force)
        except ApplyRefused as e:
            refused = e
    saved = pipeline.save_diff(root, done) if done.ok and done.applied is None else None
    if as_json:
        output.emit_json(_as_json(route, done, split, saved))
    else:
        if done.diff:
            output.echo(done.diff.rstrip("\n"))
        rows = accounting.table_rows(
            done.plan_result, split.plan.counterfactual_micros, done.execution.outcomes
        )
        output.table("cost per subtask", accounting.COLUMNS, rows)
        output.err(accounting.summary_line(split))
    if not done.ok:
        raise CodetierError(done.error)
    if refused is not None:
        raise CodetierError(f"{refused}\nthe checked diff is saved in {saved}")
    if as_json:
        return
    if done.applied is not None:
        output.err(f"applied to {len(done.edits)} file(s); `codetier undo` restores them")
    else:
        output.err(f"checked, not applied: re-run with --apply, or `git apply {saved}`")


def _split(request_id: str) -> accounting.Split:
    db = ledger.connect()
    try:
        return accounting.request_split(db, request_id)
    finally:
        db.close()


def _as_json(
    route: Route, done: pipeline.PlanRun, split: accounting.Split, saved: Path | None
) -> dict[str, Any]:
    return {
        "request_id": done.request_id,
        "task": route.task,
        "plan": done.plan.as_dict(),
        "subtasks": [
            {
                "id": o.subtask.id,
                "ok": o.ok,
                "tier": o.result.link.tier if o.result else None,
                "model": o.result.link.model if o.result else None,
                "attempts": len(o.result.attempts) if o.result else o.answers,
                "cost_micros": o.cost_micros,
                "counterfactual_micros": o.counterfactual_micros,
                "summary": o.summary,
                "error": o.error or None,
            }
            for o in done.execution.outcomes
        ],
        "diff": done.diff,
        "verified": {"ok": done.verdict.ok, "stage": done.verdict.stage, "detail": done.verdict.detail},
        "split": split.as_dict(),
        "applied": done.applied.id if done.applied else None,
        "saved_diff": str(saved) if saved else None,
    }
