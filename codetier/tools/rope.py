"""Renames through rope: every file's new content, computed without writing."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codetier.errors import CodetierError

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", "build", "dist"}


@dataclass(frozen=True)
class Rename:
    """The result of a rename: new content per changed file and a unified diff."""

    old: str
    new: str
    contents: dict[str, str]
    diff: str


def python_files(root: Path) -> list[Path]:
    out = []
    for path in sorted(root.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts):
            out.append(path)
    return out


def find_definition(root: Path, name: str, files: list[Path] | None = None) -> tuple[Path, int]:
    """(file, character offset) of the first function or class definition of `name`."""
    for path in files or python_files(root):
        source = path.read_text("utf-8", errors="replace")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                line_start = _line_offset(source, node.lineno)
                col = source.index(name, line_start + node.col_offset)
                return path, col
    raise CodetierError(f"no definition of {name!r} found under {root}")


def offset_of(source: str, line: int, character: int) -> int:
    """rope wants a character offset; LSP positions are (line, character)."""
    return _line_offset(source, line + 1) + character


def _line_offset(source: str, lineno: int) -> int:
    offset = 0
    for i, line in enumerate(source.splitlines(keepends=True), start=1):
        if i == lineno:
            return offset
        offset += len(line)
    return offset


def rename_at(root: Path, path: Path, offset: int, new: str) -> Rename:
    """Rename the symbol at character `offset` in `path` across the project under `root`."""
    from rope.base.fscommands import FileSystemCommands
    from rope.base.project import Project

    if not new.isidentifier():
        raise CodetierError(f"{new!r} is not a valid Python identifier")
    with warnings.catch_warnings():
        # rope warns about its own internals; users can do nothing about it
        warnings.simplefilter("ignore", DeprecationWarning)
        # Plain file commands: we only compute changes, and rope's git commands leak pipes.
        project = Project(str(root), ropefolder=None, fscommands=FileSystemCommands())
        return _rename(project, root, path, offset, new)


def _rename(project: Any, root: Path, path: Path, offset: int, new: str) -> Rename:
    from rope.base.exceptions import RopeError
    from rope.refactor.rename import Rename as RopeRename

    try:
        resource = project.get_resource(str(path.resolve().relative_to(root.resolve())))
        try:
            refactoring = RopeRename(project, resource, offset)
            old = refactoring.get_old_name()
            changes = refactoring.get_changes(new)
        except RopeError as e:
            raise CodetierError(f"rope cannot rename here: {e}") from None
        contents = {}
        for change in changes.changes:
            contents[change.resource.path] = change.new_contents
        return Rename(old, new, contents, changes.get_description())
    finally:
        project.close()


def rename_symbol(root: Path, old: str, new: str, files: list[Path] | None = None) -> Rename:
    path, offset = find_definition(root, old, files)
    return rename_at(root, path, offset, new)
