"""Unified diffs in memory: pull one out of a reply, apply it to file contents
(parsed with unidiff, hunks found by their context like `patch` with no fuzz),
and render contents back into one git-style diff."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import unidiff

from codetier.plan.schema import normal_path

# path -> text, or None for a file that does not exist (absent or deleted).
Contents = Mapping[str, str | None]
NO_NEWLINE = "\\ No newline at end of file\n"


class PatchError(ValueError):
    """A diff that does not parse or does not apply; the message says where."""


@dataclass(frozen=True)
class FileEdit:
    path: str
    before: str | None
    after: str | None


def extract_diff(text: str) -> str:
    """The diff in a reply: the ```diff fenced blocks, else the text from its first header."""
    # A closing fence starts a line; diff lines start with " ", "+" or "-", so a
    # fence inside an edited Markdown file does not end the block.
    blocks = re.findall(r"^```(?:diff|patch|udiff)?[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M)
    blocks = [b for b in blocks if re.search(r"^(---|\+\+\+|@@) ", b, re.M)]
    if blocks:
        return "".join(b if b.endswith("\n") else b + "\n" for b in blocks)
    m = re.search(r"^(diff --git |--- )", text, re.M)
    if not m:
        raise PatchError("the reply has no unified diff")
    body = text[m.start() :]
    return body if body.endswith("\n") else body + "\n"


def summary_of(text: str) -> str:
    """The prose before the diff, first line, as the subtask's own summary."""
    head = re.split(r"```|^diff --git |^--- ", text, maxsplit=1, flags=re.M)[0].strip()
    return head.splitlines()[0][:200] if head else ""


def _strip(name: str) -> str | None:
    if name in ("/dev/null", ""):
        return None
    name = name.split("\t")[0]
    if name[:2] in ("a/", "b/"):
        name = name[2:]
    return normal_path(name)


def parse(diff: str) -> unidiff.PatchSet:
    try:
        patch = unidiff.PatchSet(diff)
    except unidiff.UnidiffParseError as e:
        raise PatchError(f"the diff does not parse: {e}") from None
    if not len(patch):
        raise PatchError("the diff changes no file")
    return patch


def apply(diff: str, contents: Contents) -> list[FileEdit]:
    """Apply `diff` to `contents`; every file it names must be in `contents`
    (None when absent). Raises PatchError naming the file and hunk."""
    edits: dict[str, FileEdit] = {}
    for pf in parse(diff):
        source, target = _strip(pf.source_file), _strip(pf.target_file)
        path = target or source
        if path is None:
            raise PatchError(f"the diff names a path outside the repository: {pf.path}")
        if source and target and source != target:
            raise PatchError(f"{source} → {target}: renames are not supported; delete and create instead")
        if path not in contents:
            raise PatchError(f"{path}: not one of this subtask's files")
        prior = edits.get(path)
        current = prior.after if prior else contents[path]
        if pf.is_added_file or source is None:
            if current is not None:
                raise PatchError(f"{path}: the diff creates it, but it already exists")
            after: str | None = _apply_hunks(path, "", pf)
        elif current is None:
            raise PatchError(f"{path}: the diff edits it, but it does not exist")
        elif pf.is_removed_file or target is None:
            _apply_hunks(path, current, pf)  # the removal must match what is there
            after = None
        else:
            after = _apply_hunks(path, current, pf)
        edits[path] = FileEdit(path, prior.before if prior else contents[path], after)
    return list(edits.values())


def _hunk_lines(hunk: unidiff.Hunk) -> tuple[list[str], list[str]]:
    old: list[str] = []
    new: list[str] = []
    last: list[list[str]] = []
    for line in hunk:
        if line.line_type == "\\":  # the previous line has no newline at end of file
            for side in last:
                side[-1] = side[-1].removesuffix("\n")
            continue
        value = line.value if line.value.endswith("\n") else line.value + "\n"
        last = []
        if line.line_type in (" ", "-"):
            old.append(value)
            last.append(old)
        if line.line_type in (" ", "+"):
            new.append(value)
            last.append(new)
    return old, new


def lines_of(text: str) -> list[str]:
    """Lines split on "\n" only, as git does (str.splitlines also splits on
    form feeds and other Unicode separators)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _apply_hunks(path: str, text: str, pf: unidiff.PatchedFile) -> str:
    lines = lines_of(text)
    crlf = bool(lines) and lines[0].endswith("\r\n")
    out: list[str] = []
    pos = 0
    for n, hunk in enumerate(pf, start=1):
        old, new = _hunk_lines(hunk)
        at = _find(lines, old, max(hunk.source_start - 1, 0), pos)
        if at is None:
            raise PatchError(
                f"{path}: hunk {n} (@@ -{hunk.source_start},{hunk.source_length} @@)"
                " does not match the current content"
            )
        if crlf:  # models write LF; keep a CRLF file CRLF
            new = [x[:-1].rstrip("\r") + "\r\n" if x.endswith("\n") else x for x in new]
        out += lines[pos:at] + new
        pos = at + len(old)
    return "".join(out + lines[pos:])


def _find(lines: list[str], old: list[str], hint: int, floor: int) -> int | None:
    """Where `old` occurs at or after `floor`, nearest to `hint` first."""
    if not old:
        return max(min(hint + 1 if hint else 0, len(lines)), floor)

    def norm(s: str) -> str:
        return s.rstrip("\r\n")

    want = [norm(x) for x in old]
    last = len(lines) - len(old)
    for delta in range(0, len(lines) + 1):
        for at in {hint - delta, hint + delta}:
            # a line without a final newline must match exactly at the end of the file
            at_end = old[-1].endswith("\n") or at + len(old) == len(lines)
            if floor <= at <= last and at_end and [norm(x) for x in lines[at : at + len(old)]] == want:
                return at
    return None


def render(edits: Mapping[str, FileEdit]) -> str:
    """One git-style diff (a/ b/ prefixes, /dev/null for creations and deletions)."""
    out: list[str] = []
    for path in sorted(edits):
        e = edits[path]
        if e.before == e.after:
            continue
        a = lines_of(e.before) if e.before is not None else []
        b = lines_of(e.after) if e.after is not None else []
        out.append(f"diff --git a/{path} b/{path}\n")
        if e.before is None:
            out.append("new file mode 100644\n")
        elif e.after is None:
            out.append("deleted file mode 100644\n")
        src = f"a/{path}" if e.before is not None else "/dev/null"
        dst = f"b/{path}" if e.after is not None else "/dev/null"
        for line in difflib.unified_diff(a, b, src, dst):
            out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(out)
