"""A staged diff made fit for a prompt: parsed with unidiff, noise folded into
one summary line per file, and trimmed per file to a token budget with a note
of what was cut."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from codetier.errors import CodetierError
from codetier.redact import is_env_file
from codetier.tokens import BYTES_PER_TOKEN

LOCK_FILES = {
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "pipfile.lock",
    "cargo.lock",
    "gemfile.lock",
    "composer.lock",
    "go.sum",
    "flake.lock",
    "mix.lock",
    "packages.lock.json",
    "podfile.lock",
}
VENDOR_DIRS = {"vendor", "vendors", "third_party", "thirdparty", "node_modules", "_vendor", "external"}
GENERATED = re.compile(
    r"(_pb2(_grpc)?\.pyi?|\.pb\.go|\.pb\.(cc|h)|\.generated\.\w+|\.g\.dart|\.designer\.cs|\.map)$", re.I
)
GENERATED_MARK = re.compile(r"@generated\b|\bdo not edit\b|\bauto-?generated (?:file|code)\b", re.I)
MINIFIED = re.compile(r"\.min\.(js|css|mjs)$", re.I)
LONG_LINE = 500  # average characters per added line past which a file counts as minified
DEFINITION = re.compile(
    r"^\s*(?:(?:async\s+)?def|class)\s+(?P<py>\w+)"  # Python
    r"|^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s+(?P<js>\w+)"  # JS/TS
    r"|^\s*(?:pub(?:\([\w:]+\))?\s+)?(?:async\s+)?fn\s+(?P<rs>\w+)"  # Rust
    r"|^func\s+(?:\([^)]*\)\s*)?(?P<go>\w+)"  # Go
)
SUBPROJECT = re.compile(r"^Subproject commit ([0-9a-f]{7,40})")


@dataclass(frozen=True)
class FileDiff:
    """One file of a diff: what happened to it and, for text, its hunks."""

    path: str
    old_path: str | None
    status: str  # added | deleted | modified | renamed
    kind: str  # text | binary | env | lock | minified | generated | vendored | submodule
    added: int
    removed: int
    body: str  # the hunks, for text files; "" otherwise
    added_defs: tuple[str, ...] = ()
    removed_defs: tuple[str, ...] = ()
    submodule: tuple[str, str] | None = None  # (old sha, new sha)

    @property
    def folded(self) -> bool:
        """Shown as one summary line instead of its hunks."""
        return self.kind != "text"

    def summary(self) -> str:
        moved = f" (renamed from {self.old_path})" if self.old_path else ""
        counts = f" (+{self.added} -{self.removed} lines, not shown)" if self.added or self.removed else ""
        if self.kind == "submodule" and self.submodule:
            old, new = (s[:7] for s in self.submodule)
            return f"{self.path}: submodule bumped {old}..{new}"
        if self.kind == "binary":
            return f"{self.path}: binary file {self.status}{moved}"
        noun = {
            "env": "environment file (values never shown)",
            "lock": "lock file",
            "minified": "minified file",
            "generated": "generated file",
            "vendored": "vendored file",
        }.get(self.kind, "file")
        return f"{self.path}: {noun} {self.status}{moved}{counts}"

    def header(self) -> str:
        if self.status == "renamed":
            return f"--- {self.old_path} → {self.path} (renamed, +{self.added} -{self.removed})"
        return f"--- {self.path} ({self.status}, +{self.added} -{self.removed})"


def _strip(name: str) -> str:
    name = _unquote(name)
    return name[2:] if name[:2] in ("a/", "b/") else name


def _unquote(name: str) -> str:
    """A name git wrote C-quoted (a tab, a newline, a quote in it): the name itself."""
    if len(name) < 2 or not (name[0] == name[-1] == '"'):
        return name
    raw = codecs.escape_decode(name[1:-1].encode("utf-8", "surrogateescape"))[0]
    return raw.decode("utf-8", "surrogateescape")


def _kind(path: str, is_binary: bool, added_text: Sequence[str], body_head: str) -> str:
    p = PurePosixPath(path)
    if is_binary:
        return "binary"
    if is_env_file(path):
        return "env"  # secrets by definition: never shown to a model
    if p.name.lower() in LOCK_FILES or p.suffix == ".lock":
        return "lock"
    if any(part.lower() in VENDOR_DIRS for part in p.parts[:-1]):
        return "vendored"
    if MINIFIED.search(p.name):
        return "minified"
    if added_text and sum(map(len, added_text)) / len(added_text) > LONG_LINE:
        return "minified"
    if GENERATED.search(p.name) or GENERATED_MARK.search(body_head):
        return "generated"
    return "text"


def _definitions(lines: Iterable[str]) -> list[str]:
    out = []
    for line in lines:
        m = DEFINITION.match(line)
        if m:
            out.append(next(g for g in m.groups() if g))
    return out


def parse(diff: str) -> list[FileDiff]:
    """Every file of a unified diff (from `git diff`), in diff order."""
    if not diff.strip():
        return []
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as e:
        raise CodetierError(f"could not parse the staged diff: {e}") from None
    files = []
    for pf in patch:
        added = [line.value.rstrip("\n") for hunk in pf for line in hunk if line.is_added]
        removed = [line.value.rstrip("\n") for hunk in pf for line in hunk if line.is_removed]
        path = _unquote(pf.path)
        old = _strip(pf.source_file) if pf.is_rename else None
        if pf.is_added_file:
            status = "added"
        elif pf.is_removed_file:
            status = "deleted"
        elif pf.is_rename:
            status = "renamed"
        else:
            status = "modified"
        sub = [m.group(1) for m in map(SUBPROJECT.match, removed + added) if m]
        if sub and len(sub) == len(added) + len(removed):
            olds = [SUBPROJECT.match(x) for x in removed]
            news = [SUBPROJECT.match(x) for x in added]
            before = olds[0].group(1) if olds and olds[0] else "0000000"
            after = news[0].group(1) if news and news[0] else "0000000"
            files.append(FileDiff(path, old, status, "submodule", 0, 0, "", submodule=(before, after)))
            continue
        body = "".join(str(h) for h in pf)
        kind = _kind(path, pf.is_binary_file, added, "\n".join(added[:5]))
        new_defs, old_defs = _definitions(added), _definitions(removed)
        files.append(
            FileDiff(
                path=path,
                old_path=old,
                status=status,
                kind=kind,
                added=len(added),
                removed=len(removed),
                body=body if kind == "text" else "",
                added_defs=tuple(d for d in dict.fromkeys(new_defs) if d not in old_defs),
                removed_defs=tuple(d for d in dict.fromkeys(old_defs) if d not in new_defs),
            )
        )
    return files


@dataclass(frozen=True)
class Rendered:
    text: str
    cut: tuple[str, ...]  # one note per trimmed file

    @property
    def note(self) -> str:
        return "trimmed to fit: " + "; ".join(self.cut) if self.cut else ""


def _shares(sizes: Sequence[int], budget: int) -> list[int]:
    """Water-filling: small files keep everything, large ones split what is left evenly."""
    share = [0] * len(sizes)
    left, pending = budget, sorted(range(len(sizes)), key=lambda i: sizes[i])
    while pending:
        fair = left // len(pending)
        i = pending[0]
        if sizes[i] <= fair:
            share[i] = sizes[i]
            left -= sizes[i]
            pending.pop(0)
        else:
            for j in pending:
                share[j] = fair
            break
    return share


def _cut(body: str, limit: int) -> tuple[str, int]:
    """The body's first lines within `limit` characters, and how many lines were dropped."""
    if len(body) <= limit:
        return body, 0
    end = body.rfind("\n", 0, max(limit, 0))
    kept = body[: end + 1] if end >= 0 else ""
    return kept, body.count("\n", len(kept)) + (0 if body.endswith("\n") else 1)


def render(files: Sequence[FileDiff], budget_tokens: int) -> Rendered:
    """Summary lines for folded files, then each text file's hunks, trimmed per file."""
    folded = [f.summary() for f in files if f.folded]
    text = [f for f in files if not f.folded]
    heads = [f.header() for f in text]
    fixed = sum(len(x) + 1 for x in (*folded, *heads))
    budget = max(int(budget_tokens * BYTES_PER_TOKEN) - fixed, 0)
    shares = _shares([len(f.body) for f in text], budget)
    parts, cut = [], []
    if folded:
        parts.append("Summarised (not shown):\n" + "\n".join(f"- {line}" for line in folded))
    for f, head, share in zip(text, heads, shares, strict=True):
        kept, dropped = _cut(f.body, share)
        if dropped:
            total = f.body.count("\n")
            cut.append(f"{f.path}: {dropped} of {total} diff lines cut")
            kept += f"[... {dropped} more lines of {f.path} cut to fit the budget]\n"
        parts.append(f"{head}\n{kept}".rstrip("\n"))
    return Rendered("\n\n".join(parts), tuple(cut))


def touched(files: Sequence[FileDiff]) -> set[str]:
    """Every path the diff touches, old names of renames included."""
    out = {f.path for f in files}
    out |= {f.old_path for f in files if f.old_path}
    return out
