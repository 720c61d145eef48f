"""The editor's buffers: snapshots taken on the event loop (so worker threads
never race didChange), position checks that fail as invalid params, the
dirty buffers of a repository, and a fast indentation scan for the def at
the cursor (the action list must not parse a 3,000-line file)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path, to_fs_path

if TYPE_CHECKING:
    from codetier_lsp.state import CodetierServer
    from pygls.workspace import TextDocument

DEF = re.compile(r"^([ \t]*)(?:async[ \t]+def|def|class)[ \t]+([A-Za-z_]\w*)")
DOCSTRING_START = re.compile(r"""^[ \t]*[rRuUbBfF]{0,2}(?:\"\"\"|''')""")


@dataclass(frozen=True)
class Span:
    """A def or class found by indentation; lines 0-based, `end` inclusive."""

    name: str
    kind: str  # "def" or "class"
    start: int
    end: int
    has_docstring: bool


@dataclass(frozen=True)
class Snapshot:
    """One buffer at one version, with the requested range (server units, 0-based lines)."""

    uri: str
    path: Path
    root: Path
    version: int | None
    source: str
    start: int
    end: int
    empty: bool  # the range is a cursor, not a selection

    @property
    def rel(self) -> str:
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.name

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=message)


def document(ls: CodetierServer, uri: str) -> TextDocument:
    """An open document, or invalid params (never a stale file from disk)."""
    if not isinstance(uri, str) or uri not in ls.workspace.text_documents:
        raise invalid(f"unknown document {uri!r}: open it first (didOpen)")
    return ls.workspace.get_text_document(uri)


def path_of(uri: str) -> Path:
    path = to_fs_path(uri)
    if path is None:
        raise invalid(f"{uri}: only file: URIs are supported")
    return Path(path)


def uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def check_position(
    doc: TextDocument, pos: types.Position, what: str = "position", lines: Sequence[str] | None = None
) -> None:
    lines = doc.lines if lines is None else lines
    if pos.line < 0 or pos.character < 0 or pos.line > len(lines):
        raise invalid(f"{what} {pos.line}:{pos.character} is outside {doc.uri} ({len(lines)} lines)")
    if pos.line < len(lines):
        width = doc.position_codec.client_num_units(lines[pos.line].rstrip("\r\n"))
        if pos.character > width:
            raise invalid(f"{what} {pos.line}:{pos.character} is past the end of line {pos.line}")


def snapshot(ls: CodetierServer, uri: str, rng: types.Range) -> Snapshot:
    doc = document(ls, uri)
    check_position(doc, rng.start, "start")
    check_position(doc, rng.end, "end")
    if (rng.end.line, rng.end.character) < (rng.start.line, rng.start.character):
        raise invalid("the range ends before it starts")
    path = path_of(uri)
    end = rng.end.line
    if end > rng.start.line and rng.end.character == 0:
        end -= 1  # a selection of whole lines ends at column 0 of the next one
    return Snapshot(
        uri=uri,
        path=path,
        root=ls.root_for(path),
        version=doc.version,
        source=doc.source,
        start=rng.start.line,
        end=max(end, rng.start.line),
        empty=rng.start == rng.end,
    )


def range_arg(raw: Any) -> types.Range:
    """A Range from a command argument (plain JSON)."""
    try:
        s, e = raw["start"], raw["end"]
        return types.Range(
            types.Position(int(s["line"]), int(s["character"])),
            types.Position(int(e["line"]), int(e["character"])),
        )
    except (KeyError, TypeError, ValueError):
        raise invalid(f"expected a range {{start, end}}, got {raw!r}") from None


def from_args(ls: CodetierServer, args: Sequence[Any]) -> Snapshot:
    """The snapshot a code action's command points at: [{uri, range}]."""
    if len(args) != 1 or not isinstance(args[0], Mapping) or not isinstance(args[0].get("uri"), str):
        raise invalid("expected one argument {uri, range}")
    return snapshot(ls, args[0]["uri"], range_arg(args[0].get("range")))


def open_buffers(ls: CodetierServer, root: Path) -> dict[str, tuple[str, int | None]]:
    """{path relative to root: (text, version)} for the open Python buffers under root."""
    out = {}
    for uri, doc in list(ls.workspace.text_documents.items()):
        path = to_fs_path(uri)
        if path is None or not path.endswith(".py"):
            continue
        try:
            rel = Path(path).relative_to(root).as_posix()
        except ValueError:
            continue
        out[rel] = (doc.source, doc.version)
    return out


def dirty_buffers(ls: CodetierServer, root: Path) -> dict[str, str]:
    """{path relative to root: text} for open Python buffers that differ from disk."""
    out = {}
    for rel, (text, _version) in open_buffers(ls, root).items():
        try:
            on_disk: str | None = (root / rel).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            on_disk = None
        if text != on_disk:
            out[rel] = text
    return out


def open_text(ls: CodetierServer, path: Path) -> tuple[str | None, int | None]:
    """(text, version) of a file: the open buffer if there is one, else the disk."""
    doc = ls.workspace.text_documents.get(uri_of(path))
    if doc is not None:
        return doc.source, doc.version
    try:
        return path.read_text("utf-8"), None
    except (OSError, UnicodeDecodeError):
        return None, None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def enclosing(lines: Sequence[str], line: int) -> Span | None:
    """The innermost def/class around `line`, by indentation (no parsing)."""
    if not 0 <= line < len(lines):
        return None
    found = None
    m = DEF.match(lines[line])
    if m:
        found = (line, m)
    else:
        level = _indent(lines[line]) if not _blank(lines[line]) else 10**6
        for i in range(line - 1, -1, -1):
            text = lines[i]
            if _blank(text):
                continue
            ind = _indent(text)
            if ind >= level:
                continue
            m = DEF.match(text)
            if m:
                found = (i, m)
                break
            if ind == 0:
                return None
            level = ind
    if found is None:
        return None
    start, m = found
    base = len(m.group(1))
    end = start
    header_end = None
    for i in range(start, len(lines)):
        text = lines[i]
        if header_end is None:
            if text.split("#", 1)[0].rstrip().endswith(":"):
                header_end = i
            end = i
            continue
        if _blank(text):
            continue
        if _indent(text) <= base:
            break
        end = i
    has_doc = False
    if header_end is not None:
        for i in range(header_end + 1, min(end + 1, len(lines))):
            if lines[i].strip():
                has_doc = bool(DOCSTRING_START.match(lines[i]))
                break
    kind = "class" if "class" in lines[start][base : base + 6] else "def"
    return Span(m.group(2), kind, start, end, has_doc)
