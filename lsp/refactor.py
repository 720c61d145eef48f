"""Refactor across modules… (deep): plan → execute, as one WorkspaceEdit.

`compute_edit` runs the same pipeline as `codetier ask "refactor …"`
(codetier/plan/pipeline.py): the deep model plans, each subtask runs on its
own tier, the combined change is checked, and the editor applies it. The
editor's unsaved buffers stand in for the files on disk. Progress reports the
plan and each subtask as it finishes; a cancel stops the work after the plan
or after any subtask (a call already in flight is still paid for and recorded).

The instruction comes from the command's `instruction` argument (the VS Code
extension asks for it), else from a `# codetier: <instruction>` comment on or
above the cursor line, else a default about the def at the cursor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from codetier_lsp import documents, edits
from codetier_lsp.documents import Snapshot
from codetier_lsp.estimate import route_for
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded

from codetier import ledger
from codetier.config import Config
from codetier.engine import Result
from codetier.errors import CodetierError
from codetier.plan import accounting, pipeline, settings
from codetier.plan import execute as plan_execute
from codetier.plan.schema import Plan, levels

COMMENT = re.compile(r"#\s*codetier:\s*(.+)$")
TASK = "cross_file_refactor"


@dataclass(frozen=True)
class RefactorRequest:
    instruction: str
    root: Path
    path: str  # the file the action started in, relative to root
    buffers: Mapping[str, str]  # open Python buffers under root: {path: text}
    cfg: Config  # the config the server's registry was built from


@dataclass(frozen=True)
class RefactorEdit:
    """New text per path (None: deleted), the paths that are new, the text each
    edit was made against, the plan call's result and the request's cost line."""

    contents: dict[str, str | None]
    created: tuple[str, ...]
    result: Result
    before: dict[str, str | None]
    cost: str


def instruction_for(snap: Snapshot, given: object) -> str:
    lines = snap.lines
    if isinstance(given, str) and given.strip():
        return given.strip()
    for i in (snap.start, snap.start - 1):
        if 0 <= i < len(lines):
            m = COMMENT.search(lines[i])
            if m:
                return m.group(1).strip()
    span = documents.enclosing(lines, snap.start)
    if span and span.name:
        return (
            f"Refactor `{span.name}` in {snap.rel} for clarity and update every module that uses it;"
            " keep behaviour the same."
        )
    return f"Refactor {snap.rel} for clarity across the modules that use it; keep behaviour the same."


def cost_line(request_id: str) -> str:
    """Plan + execution = total, and the all-deep counterfactual, from the ledger."""
    db = ledger.connect()
    try:
        return accounting.summary_line(accounting.request_split(db, request_id))
    finally:
        db.close()


def compute_edit(req: RefactorRequest, w: Work) -> RefactorEdit:
    """Plan and execute the change; nothing on disk is written."""
    w.check()
    route = route_for(w.reg, TASK)
    w.report(f"planning on {route.links[0].tier} ({route.links[0].label})")
    count = {"done": 0, "all": 0}

    def on_plan(plan: Plan) -> None:
        w.check()  # cancelled while the deep model planned: execute nothing
        count["all"] = len(plan.subtasks)
        w.report(f"plan: {count['all']} subtasks in {len(levels(plan))} levels")

    def on_done(o: plan_execute.Outcome) -> None:
        w.check()  # raising here stops the queued subtasks
        count["done"] += 1
        served = f"{o.result.link.tier} ({o.result.link.label})" if o.result else "failed"
        w.report(f"subtask {o.subtask.id} ({count['done']}/{count['all']}): {served}")

    done = pipeline.run(
        req.instruction,
        req.root,
        route,
        w.reg,
        req.cfg,
        w.ctx,
        named=[req.path],
        on_plan=on_plan,
        on_done=on_done,
        buffers=req.buffers,
    )
    w.check()
    cost = cost_line(done.request_id)
    if not done.ok:
        raise CodetierError(f"{done.error}\n{cost}")
    return RefactorEdit(
        {p: e.after for p, e in done.edits.items()},
        tuple(p for p, e in done.edits.items() if e.before is None),
        done.plan_result,
        {p: e.before for p, e in done.edits.items()},
        cost,
    )


def prepare(
    ls: CodetierServer, snap: Snapshot, loaded: Loaded, instruction: object = None
) -> Callable[[Work], Outcome]:
    settings.read(loaded.cfg)  # a bad [plan] key is reported before anything runs
    units = ls.workspace.position_codec.client_num_units
    opened = documents.open_buffers(ls, snap.root)
    buffers = {**{rel: text for rel, (text, _) in opened.items()}, snap.rel: snap.source}
    versions = {**{rel: version for rel, (_, version) in opened.items()}, snap.rel: snap.version}
    req = RefactorRequest(instruction_for(snap, instruction), snap.root, snap.rel, buffers, loaded.cfg)

    def work(w: Work) -> Outcome:
        out = compute_edit(req, w)
        changes = [
            edits.change(documents.uri_of(snap.root / rel), out.before[rel], new, versions.get(rel), units)
            for rel, new in out.contents.items()
        ]
        n = len(changes)
        message = f"codetier: Refactor across modules ({n} file{'s' if n != 1 else ''}) — {out.cost}"
        return Outcome(changes=changes, message=message, result=out.result)

    return work
