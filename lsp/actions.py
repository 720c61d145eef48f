"""`textDocument/codeAction`: the tiered actions at the cursor or selection.

Computed from the buffer with no model call and no parsing (an indentation
scan finds the def), titled `<what> · <tier> · <estimate>`. Each action is a
command the editor sends back through `workspace/executeCommand`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codetier_lsp import documents, estimate, runner
from codetier_lsp.documents import Span
from codetier_lsp.state import CodetierServer
from lsprotocol import types

from codetier.errors import ConfigError
from codetier.registry import Registry


@dataclass(frozen=True)
class View:
    """What the action list looks at: the buffer, the def around the cursor, the selection."""

    source: str
    lines: list[str]
    span: Span | None
    selection: str
    start: int
    end: int


@dataclass(frozen=True)
class Action:
    command: str
    task: str
    label: str
    kind: str | None
    context: Callable[[View], str | None]  # the text the model would read; None: not offered here


def _span_text(v: View) -> str | None:
    if v.span is None:
        return None
    return "\n".join(v.lines[v.span.start : v.span.end + 1])


def _docstring(v: View) -> str | None:
    return _span_text(v) if v.span is not None and not v.span.has_docstring else None


def _tests(v: View) -> str | None:
    return v.source if v.span is not None and v.span.kind == "def" else None


def _selection(v: View) -> str | None:
    return v.selection or None


def _code(v: View) -> str | None:
    return v.selection or _span_text(v) or (v.lines[v.start] if v.start < len(v.lines) else None)


def _whole(v: View) -> str | None:
    return v.source


ACTIONS: tuple[Action, ...] = (
    Action(
        "codetier.addDocstring",
        "docstring",
        "Add docstring",
        types.CodeActionKind.RefactorRewrite,
        _docstring,
    ),
    Action("codetier.writeTests", "test_writing", "Write tests", types.CodeActionKind.Source, _tests),
    Action("codetier.review", "code_review", "Review selection", types.CodeActionKind.Source, _selection),
    Action("codetier.explain", "explain", "Explain", None, _code),
    Action("codetier.fixLint", "format_fix", "Fix lint here", types.CodeActionKind.QuickFix, _code),
    Action(
        "codetier.refactor",
        "cross_file_refactor",
        "Refactor across modules…",
        types.CodeActionKind.Refactor,
        _whole,
    ),
)


def is_python(uri: str, language_id: str | None) -> bool:
    return language_id == "python" or uri.endswith((".py", ".pyi"))


def _wanted(kind: str | None, only: list[str] | None) -> bool:
    if not only:
        return True
    return kind is not None and any(kind == k or kind.startswith(k + ".") for k in only)


def view_of(source: str, lines: list[str], start: int, end: int, empty: bool) -> View:
    selection = "" if empty else "\n".join(lines[start : end + 1])
    return View(source, lines, documents.enclosing(lines, start), selection, start, end)


def titled(v: View, reg: Registry, fix_with_model: bool, only: list[str] | None) -> list[tuple[Action, str]]:
    """Each offered action with its title."""
    out = []
    for action in ACTIONS:
        if not _wanted(action.kind, only):
            continue
        context = action.context(v)
        if context is None:
            continue
        if action.task == "format_fix" and fix_with_model:
            tier, cost = estimate.micros(reg, action.task, context, tier="fast")  # when ruff leaves some
            out.append((action, f"{action.label} · tool, then {tier} · {estimate.money(cost)}"))
            continue
        out.append((action, estimate.title(action.label, reg, action.task, context)))
    return out


def code_actions(ls: CodetierServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    doc = documents.document(ls, params.text_document.uri)
    source = doc.source
    lines = source.splitlines()
    rng = params.range
    documents.check_position(doc, rng.start, "start", lines)
    documents.check_position(doc, rng.end, "end", lines)
    if not is_python(doc.uri, doc.language_id):
        return []
    path = documents.path_of(doc.uri)
    try:
        loaded = ls.loaded(ls.root_for(path))
    except ConfigError as e:
        if str(e) not in ls.reported:  # once per distinct problem, not on every cursor move
            ls.reported.add(str(e))
            runner.user_error(ls, e)
        return []
    end = rng.end.line - 1 if rng.end.line > rng.start.line and rng.end.character == 0 else rng.end.line
    v = view_of(source, lines, rng.start.line, max(end, rng.start.line), rng.start == rng.end)
    arg = {
        "uri": doc.uri,
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
    }
    only = list(params.context.only) if params.context.only else None
    return [
        types.CodeAction(
            title=title,
            kind=action.kind,
            command=types.Command(title=title, command=action.command, arguments=[arg]),
        )
        for action, title in titled(v, loaded.reg, loaded.settings.fix_with_model, only)
    ]
