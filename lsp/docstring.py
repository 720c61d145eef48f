"""Add docstring (fast): the docstring chore on the buffer; the edit inserts a
docstring that parses."""

from __future__ import annotations

from collections.abc import Callable

from codetier_lsp import edits
from codetier_lsp.documents import Snapshot
from codetier_lsp.estimate import route_for
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded

from codetier import chores


def prepare(ls: CodetierServer, snap: Snapshot, loaded: Loaded) -> Callable[[Work], Outcome]:
    units = ls.workspace.position_codec.client_num_units

    def work(w: Work) -> Outcome:
        req = chores.Request(
            text="add a docstring",
            root=snap.root,
            options={"source": snap.source, "path": snap.rel, "line": snap.start},
        )
        result = w.run(chores.get("docstring").job(req, w.reg), route_for(w.reg, "docstring"))
        change = edits.change(snap.uri, snap.source, result.value.source, snap.version, units)
        return Outcome(changes=[change], result=result)

    return work
