"""Refactor across modules… (deep): a WorkspaceEdit across files.

All of the execution sits behind `compute_edit`: today one deep call whose
answer must be a unified diff that parses and applies to the current buffers
(codetier/chores/refactor_diff.py); when plan → execute (codetier/plan/)
lands, only `compute_edit` changes.

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

from codetier import tokens
from codetier.chores import refactor_diff
from codetier.chores.base import Request
from codetier.chores.pysource import module_name
from codetier.engine import Result
from codetier.tools.rope import python_files

COMMENT = re.compile(r"#\s*codetier:\s*(.+)$")
MAX_FILES = 12
MAX_CONTEXT_TOKENS = 150_000


@dataclass(frozen=True)
class RefactorRequest:
    instruction: str
    root: Path
    path: str  # the file the action started in, relative to root
    symbol: str | None
    buffers: Mapping[str, str]  # open Python buffers under root: {path: text}


@dataclass(frozen=True)
class RefactorEdit:
    """New text per path (None: deleted), the paths that are new, and the engine's result."""

    contents: dict[str, str | None]
    created: tuple[str, ...]
    result: Result


def instruction_for(snap: Snapshot, given: object) -> tuple[str, str | None]:
    """(instruction, symbol at the cursor)."""
    lines = snap.lines
    span = documents.enclosing(lines, snap.start)
    symbol = span.name if span else None
    if isinstance(given, str) and given.strip():
        return given.strip(), symbol
    for i in (snap.start, snap.start - 1):
        if 0 <= i < len(lines):
            m = COMMENT.search(lines[i])
            if m:
                return m.group(1).strip(), symbol
    if symbol:
        return (
            f"Refactor `{symbol}` in {snap.rel} for clarity and update every module that uses it;"
            " keep behaviour the same.",
            symbol,
        )
    return f"Refactor {snap.rel} for clarity across the modules that use it; keep behaviour the same.", None


def related(req: RefactorRequest) -> dict[str, str]:
    """The starting file, then files that import its module or mention the symbol."""

    def read(rel: str) -> str | None:
        if rel in req.buffers:
            return req.buffers[rel]
        try:
            return (req.root / rel).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    first = read(req.path)
    files = {req.path: first} if first is not None else {}
    module = module_name(req.path)
    leaf = module.rsplit(".", 1)[-1]
    words = [w for w in (module, leaf, req.symbol) if w]
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b") if words else None
    budget = MAX_CONTEXT_TOKENS - tokens.estimate(first or "")
    for path in python_files(req.root):
        rel = path.relative_to(req.root).as_posix()
        if rel in files or len(files) >= MAX_FILES:
            continue
        text = read(rel)
        if text is None or pattern is None or not pattern.search(text):
            continue
        cost = tokens.estimate(text)
        if cost > budget:
            continue
        files[rel] = text
        budget -= cost
    return files


def compute_edit(req: RefactorRequest, w: Work) -> RefactorEdit:
    """The change as new file contents. The one place plan → execute will plug in."""
    w.report("gathering the modules involved")
    files = related(req)
    chore_req = Request(text=req.instruction, root=req.root, options={"files": files, "buffers": req.buffers})
    result = w.run(refactor_diff.job(chore_req, w.reg), route_for(w.reg, "cross_file_refactor"))
    applied = result.value
    return RefactorEdit(dict(applied.contents), tuple(applied.created), result)


def prepare(
    ls: CodetierServer, snap: Snapshot, loaded: Loaded, instruction: object = None
) -> Callable[[Work], Outcome]:
    units = ls.workspace.position_codec.client_num_units
    text, symbol = instruction_for(snap, instruction)
    opened = documents.open_buffers(ls, snap.root)
    buffers = {**{rel: text for rel, (text, _) in opened.items()}, snap.rel: snap.source}
    versions = {**{rel: version for rel, (_, version) in opened.items()}, snap.rel: snap.version}
    req = RefactorRequest(text, snap.root, snap.rel, symbol, buffers)

    def work(w: Work) -> Outcome:
        out = compute_edit(req, w)
        changes = []
        for rel, new in out.contents.items():
            path = snap.root / rel
            old = None if rel in out.created else buffers.get(rel)
            if old is None and rel not in out.created:
                old = path.read_text("utf-8") if path.is_file() else None
            changes.append(edits.change(documents.uri_of(path), old, new, versions.get(rel), units))
        return Outcome(changes=changes, result=out.result)

    return work
