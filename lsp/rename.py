"""`textDocument/prepareRename` and `textDocument/rename` through rope, across
modules, at the tool tier ($0, one ledger row).

rope reads files from disk, so when any open buffer of the repository is
unsaved the rename runs in a shadow copy of the project's Python files with
the buffers written in (codetier/tools/buffer.py): the result always matches
what the user sees, and nothing on disk is touched. The editor applies the
returned WorkspaceEdit (versioned, so a buffer that changed meanwhile is
refused).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Sequence

from codetier_lsp import documents, edits, runner
from codetier_lsp.estimate import route_for
from codetier_lsp.runner import Work
from codetier_lsp.state import CodetierServer
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codetier.engine import Check, Context, Job, Link
from codetier.errors import CodetierError
from codetier.providers.base import Call, Completion

WORD = re.compile(r"[A-Za-z_]\w*")
REQUEST_FAILED = -32803  # LSP's RequestFailed


def word_at(line: str, column: int) -> tuple[int, int] | None:
    """The identifier touching `column` (code points), as (start, end)."""
    for m in WORD.finditer(line):
        if m.start() <= column <= m.end():
            return None if keyword.iskeyword(m.group()) else (m.start(), m.end())
    return None


def prepare_rename(ls: CodetierServer, params: types.PrepareRenameParams) -> types.Range | None:
    doc = documents.document(ls, params.text_document.uri)
    documents.check_position(doc, params.position)
    lines = doc.lines
    if params.position.line >= len(lines):
        return None
    server_pos = doc.position_codec.position_from_client_units(lines, params.position)
    found = word_at(lines[server_pos.line], server_pos.character)
    if found is None:
        return None
    start = types.Position(server_pos.line, found[0])
    end = types.Position(server_pos.line, found[1])
    return doc.position_codec.range_to_client_units(lines, types.Range(start, end))


def rename_job(payload: dict[str, object]) -> Job:
    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call("rename_at", None, "", f"rename to {payload['new']}", 0, payload=payload)

    def check(c: Completion) -> Check:
        result = json.loads(c.text)
        for path, content in result["contents"].items():
            broken = None
            if path.endswith(".py"):
                try:
                    compile(content, path, "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST
                except SyntaxError as e:
                    broken = f"{path} would not parse after the rename: {e.msg}"
            if broken:
                return Check(False, broken)
        return Check(True, value=result)

    return Job("rename", build, check)


async def rename(ls: CodetierServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    doc = documents.document(ls, params.text_document.uri)
    documents.check_position(doc, params.position)
    if not params.new_name.isidentifier() or keyword.iskeyword(params.new_name):
        raise documents.invalid(f"{params.new_name!r} is not a valid Python identifier")
    path = documents.path_of(doc.uri)
    root = ls.root_for(path)
    try:
        loaded = ls.loaded(root)
    except CodetierError as e:
        raise JsonRpcException(code=REQUEST_FAILED, message=f"codetier: {e}") from None
    opened = documents.open_buffers(ls, root)
    overlay = documents.dirty_buffers(ls, root)
    payload: dict[str, object] = {
        "root": str(root),
        "path": path.relative_to(root).as_posix(),
        "offset": doc.offset_at_position(params.position),
        "new": params.new_name,
        "overlay": overlay,
    }
    units = ls.workspace.position_codec.client_num_units
    ctx = Context(source="lsp", repo=str(root), session=ls.session)

    def work() -> dict[str, object]:
        w = Work(loaded.reg, ctx, lambda message: None)
        return dict(w.run(rename_job(payload), route_for(loaded.reg, "rename")).value)

    try:
        result = await runner.in_thread(work, "codetier-rename")
    except CodetierError as e:
        raise JsonRpcException(code=REQUEST_FAILED, message=f"codetier: {e}") from None
    changes = []
    contents: dict[str, str] = result["contents"]  # type: ignore[assignment]
    for rel, new in contents.items():
        full = root / rel
        old, version = opened.get(rel, (None, None))
        if old is None:
            old = full.read_text("utf-8") if full.is_file() else ""
        changes.append(edits.change(documents.uri_of(full), old, new, version, units))
    return edits.workspace_edit(changes, ls.supports("workspace.workspace_edit.document_changes"))
