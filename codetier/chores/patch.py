"""Apply a unified diff (parsed by unidiff) to in-memory contents, checking
that every hunk's context matches: nothing is written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FENCE = re.compile(r"```[ \t]*(?:diff|patch|udiff)?[^\n]*\n(.*?)```", re.S)
FUZZ = 50  # how far (in lines) a hunk may have drifted from its stated position


class PatchError(Exception):
    """The diff does not parse or does not apply; the message says where."""


@dataclass(frozen=True)
class Applied:
    """New text per changed path (None: deleted) and which paths are new files."""

    contents: dict[str, str | None]
    created: tuple[str, ...]


def extract(answer: str) -> str:
    """The diff in an answer: a fenced block, else from the first `--- ` line."""
    m = FENCE.search(answer)
    if m and "@@" in m.group(1):
        return m.group(1)
    start = answer.find("--- ")
    return answer[start:] if start >= 0 else answer


def _path(name: str) -> str:
    name = name.split("\t")[0].strip()
    return name[2:] if name.startswith(("a/", "b/")) else name


def apply(diff: str, read: Callable[[str], str | None]) -> Applied:
    """Apply `diff` to the contents `read(path)` returns (None: no such file)."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        patch = PatchSet(diff)
    except UnidiffParseError as e:
        raise PatchError(f"the diff does not parse: {e}") from None
    if not len(patch):
        raise PatchError("the answer contains no unified diff")
    contents: dict[str, str | None] = {}
    created = []
    for pf in patch:
        if pf.is_added_file:
            path = _path(pf.target_file)
            if read(path) is not None:
                raise PatchError(f"{path}: the diff creates it, but it exists")
            contents[path] = "".join(line.value for hunk in pf for line in hunk if not line.is_removed)
            created.append(path)
            continue
        path = _path(pf.source_file)
        current = contents.get(path) if path in contents else read(path)
        if current is None:
            raise PatchError(f"{path}: the diff changes it, but there is no such file")
        if pf.is_removed_file:
            contents[path] = None
            continue
        contents[path] = _apply_file(path, current, pf)
        target = _path(pf.target_file)
        if target != path:  # a rename with edits
            contents[target], contents[path] = contents[path], None
            created.append(target)
    return Applied(contents, tuple(created))


def _apply_file(path: str, text: str, pf: object) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next unconsumed line of `lines`
    for hunk in pf:  # type: ignore[attr-defined]
        old = [ln.value for ln in hunk if ln.is_context or ln.is_removed]
        new = [ln.value for ln in hunk if ln.is_context or ln.is_added]
        at = _find(lines, old, max(hunk.source_start - 1, 0), pos)
        if at is None:
            raise PatchError(
                f"{path}: the hunk at line {hunk.source_start} does not match the current content"
            )
        out.extend(lines[pos:at])
        out.extend(new)
        pos = at + len(old)
    out.extend(lines[pos:])
    return "".join(out)


def _same(a: str, b: str) -> bool:
    return a.rstrip("\r\n") == b.rstrip("\r\n")


def _find(lines: list[str], old: list[str], hint: int, floor: int) -> int | None:
    """Where `old` occurs at or after `floor`, nearest to `hint`."""
    if not old:
        return max(min(hint, len(lines)), floor)
    for delta in range(FUZZ + 1):
        for at in {hint - delta, hint + delta}:
            if floor <= at <= len(lines) - len(old) and all(
                _same(lines[at + i], old[i]) for i in range(len(old))
            ):
                return at
    return None
