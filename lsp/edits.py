"""Text edits and workspace edits: minimal line-level edits between two texts,
and WorkspaceEdits that use versioned documentChanges (so the editor refuses
an edit to a buffer that changed meanwhile) when the client supports them."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lsprotocol import types

Units = Callable[[str], int]  # code units of a string in the negotiated position encoding


@dataclass
class FileChange:
    uri: str
    old: str | None  # None: the file is new
    new: str | None  # None: the file is deleted
    version: int | None = None
    edits: list[types.TextEdit] = field(default_factory=list)


def _end_of(lines: Sequence[str], units: Units) -> types.Position:
    if not lines:
        return types.Position(0, 0)
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return types.Position(len(lines), 0)
    return types.Position(len(lines) - 1, units(last))


def _pos(lines: Sequence[str], i: int, units: Units) -> types.Position:
    return types.Position(i, 0) if i < len(lines) else _end_of(lines, units)


def line_edits(
    old: str, new: str, units: Units, keep: Callable[[int, int], bool] | None = None
) -> list[types.TextEdit]:
    """Edits that turn `old` into `new`, one per changed block of lines; `keep(i1, i2)`
    can drop blocks (old lines i1..i2, end exclusive)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (keep is not None and not keep(i1, i2)):
            continue
        text = "".join(b[j1:j2])
        out.append(types.TextEdit(types.Range(_pos(a, i1, units), _pos(a, i2, units)), text))
    return out


def workspace_edit(changes: Sequence[FileChange], versioned: bool) -> types.WorkspaceEdit:
    """One WorkspaceEdit; new files become CreateFile + an insert when `versioned`."""
    if not versioned:
        return types.WorkspaceEdit(changes={c.uri: c.edits for c in changes if c.edits})
    doc_changes: list[types.TextDocumentEdit | types.CreateFile | types.DeleteFile] = []
    for c in changes:
        if c.new is None:
            doc_changes.append(types.DeleteFile(uri=c.uri))
            continue
        if c.old is None:
            doc_changes.append(
                types.CreateFile(
                    uri=c.uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)
                )
            )
        if c.edits:
            doc_changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=c.uri, version=c.version),
                    edits=list(c.edits),
                )
            )
    return types.WorkspaceEdit(document_changes=doc_changes)


def change(uri: str, old: str | None, new: str | None, version: int | None, units: Units) -> FileChange:
    edits = line_edits(old or "", new, units) if new is not None else []
    return FileChange(uri, old, new, version, list(edits))
