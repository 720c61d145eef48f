"""Review selection (balanced): findings published as diagnostics with source
`codetier`, kept until the next review of the file or until it is closed."""

from __future__ import annotations

from collections.abc import Callable

from codetier_lsp.documents import Snapshot, enclosing
from codetier_lsp.estimate import route_for
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded
from lsprotocol import types

from codetier import chores
from codetier.chores.code_review import Finding

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def region(snap: Snapshot) -> tuple[int, int]:
    """The selection; for a bare cursor, the def around it, else its line."""
    if not snap.empty:
        return snap.start, snap.end
    span = enclosing(snap.lines, snap.start)
    return (span.start, span.end) if span else (snap.start, snap.start)


def diagnostic(f: Finding, lines: list[str], units: Callable[[str], int]) -> types.Diagnostic:
    last = min(f.end_line, len(lines)) - 1
    width = units(lines[last]) if 0 <= last < len(lines) else 0
    return types.Diagnostic(
        range=types.Range(types.Position(f.line - 1, 0), types.Position(last, width)),
        message=f.message,
        severity=SEVERITY[f.severity],
        source="codetier",
    )


def prepare(ls: CodetierServer, snap: Snapshot, loaded: Loaded) -> Callable[[Work], Outcome]:
    units = ls.workspace.position_codec.client_num_units
    start, end = region(snap)
    others = [d for d in ls.reviews.get(snap.uri, []) if not start <= d.range.start.line <= end]

    def work(w: Work) -> Outcome:
        req = chores.Request(
            text="",
            root=snap.root,
            options={"source": snap.source, "path": snap.rel, "start": start, "end": end},
        )
        result = w.run(chores.get("code_review").job(req, w.reg), route_for(w.reg, "code_review"))
        lines = snap.lines
        found = [diagnostic(f, lines, units) for f in result.value]
        message = None if found else f"codetier: no findings in lines {start + 1}-{end + 1}"
        return Outcome(diagnostics=(snap.uri, others + found), message=message, result=result)

    return work
