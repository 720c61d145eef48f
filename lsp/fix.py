"""Fix lint here (tool: ruff --fix; the fast tier only when `fix_with_model`).
Only the changes that touch the region (the selection, else the def at the
cursor, else its line) are applied."""

from __future__ import annotations

from collections.abc import Callable

from codetier_lsp import edits
from codetier_lsp.documents import Snapshot
from codetier_lsp.estimate import route_for
from codetier_lsp.review import region
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded

from codetier import router
from codetier.chores import lint_here
from codetier.chores.base import Request
from codetier.engine import Route
from codetier.registry import Registry


def route(reg: Registry, with_model: bool) -> Route:
    base = route_for(reg, "format_fix")
    if not with_model or "fast" not in reg.tiers:
        return base
    links = (*base.links, *router.links_for(("fast",), reg))
    return Route(base.task, base.tier, links, (*base.reasons, "fix.llm: the fast tier after ruff"))


def prepare(ls: CodetierServer, snap: Snapshot, loaded: Loaded) -> Callable[[Work], Outcome]:
    units = ls.workspace.position_codec.client_num_units
    start, end = region(snap)
    with_model = loaded.settings.fix_with_model

    def work(w: Work) -> Outcome:
        req_options = {
            "source": snap.source,
            "path": snap.rel,
            "start": start,
            "end": end,
            "with_model": with_model,
        }
        req = Request(text="fix lint here", root=snap.root, options=req_options)
        result = w.run(lint_here.job(req, w.reg), route(w.reg, with_model))
        fixed: lint_here.Fixed = result.value
        here = edits.line_edits(
            snap.source, fixed.source, units, keep=lambda i1, i2: i1 <= end and (i2 > start or i1 >= start)
        )
        left = "; ".join(fixed.remaining)
        if not here:
            nothing = "codetier: nothing ruff can fix here" + (f" (left: {left})" if left else "")
            return Outcome(message=nothing, result=result)
        change = edits.FileChange(snap.uri, snap.source, fixed.source, snap.version, here)
        message = f"codetier: ruff left {left}" if left else None
        return Outcome(changes=[change], message=message, result=result)

    return work
