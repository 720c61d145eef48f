"""Deterministic drafts from a diff: the offline commit message and changelog entry.

The last link of commit_message's chain (no key, an outage, a spent budget).
`feat(parser): add parse_header` from added definitions, `docs: update
README.md` for documentation, and so on; the repo's style decides the shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from codetier.diffs import FileDiff

MAX_SUBJECT = 72
DOC_SUFFIXES = {".md", ".rst", ".txt", ".adoc"}
CI_PREFIXES = (".github/workflows/", ".gitlab-ci", ".circleci/", "azure-pipelines", ".travis.yml")
BUILD_FILES = {"pyproject.toml", "setup.py", "setup.cfg", "package.json", "cargo.toml", "go.mod", "makefile"}
GITMOJI = {
    "feat": "✨",
    "fix": "🐛",
    "docs": "📝",
    "test": "✅",
    "ci": "👷",
    "build": "📦",
    "chore": "🔧",
    "refactor": "♻️",
}


def _is_doc(f: FileDiff) -> bool:
    p = PurePosixPath(f.path)
    return p.suffix.lower() in DOC_SUFFIXES or (p.parts[0] in ("docs", "doc") and len(p.parts) > 1)


def _is_test(f: FileDiff) -> bool:
    p = PurePosixPath(f.path)
    return (
        any(part in ("tests", "test", "__tests__") for part in p.parts[:-1])
        or p.name.startswith("test_")
        or p.stem.endswith(("_test", ".test", ".spec"))
    )


def _is_ci(f: FileDiff) -> bool:
    return f.path.startswith(CI_PREFIXES)


def _is_build(f: FileDiff) -> bool:
    return f.kind == "lock" or PurePosixPath(f.path).name.lower() in BUILD_FILES


def _scope(files: Sequence[FileDiff]) -> str | None:
    """One module or top-level folder that every file belongs to."""
    stems = {PurePosixPath(f.path).stem for f in files}
    if len(stems) == 1:
        stem = stems.pop()
        return stem if stem.isidentifier() and stem != "__init__" else None
    tops = {PurePosixPath(f.path).parts[0] for f in files if len(PurePosixPath(f.path).parts) > 1}
    if len(tops) == 1 and all(len(PurePosixPath(f.path).parts) > 1 for f in files):
        top = tops.pop()
        return top if top.replace("-", "_").isidentifier() else None
    return None


def _names(items: Sequence[str], noun: str) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return f"{items[0]} and {len(items) - 1} more {noun}"


def _files(files: Sequence[FileDiff]) -> str:
    return _names([f.path for f in files], "files")


def classify(files: Sequence[FileDiff]) -> tuple[str, str | None, str, str]:
    """(type, scope, description, short description for when the subject runs long)."""
    n = len(files)
    short = f"update {n} files" if n > 1 else f"update {PurePosixPath(files[0].path).name}"
    if all(f.kind == "submodule" for f in files):
        return "chore", None, f"bump submodule {_files(files)}", f"bump {n} submodules"
    if all(_is_doc(f) for f in files):
        return "docs", None, f"update {_files(files)}", "update documentation"
    if all(_is_ci(f) for f in files):
        return "ci", None, f"update {_files(files)}", "update CI configuration"
    if all(_is_build(f) for f in files):
        return "build", None, f"update {_files(files)}", "update dependencies"
    if all(_is_test(f) for f in files):
        verb = "add" if all(f.status == "added" for f in files) else "update"
        return "test", _scope(files) if n > 1 else None, f"{verb} {_files(files)}", f"{verb} tests"
    if all(f.status == "deleted" for f in files):
        return "chore", None, f"remove {_files(files)}", f"remove {n} files"
    if all(f.status == "renamed" and not (f.added or f.removed) for f in files):
        if n == 1:
            return "refactor", None, f"rename {files[0].old_path} to {files[0].path}", "rename a file"
        return "refactor", None, f"move {n} files", f"move {n} files"
    defs = [d for f in files if not _is_test(f) for d in f.added_defs]
    if defs:
        code = [f for f in files if f.added_defs and not _is_test(f)]
        return "feat", _scope(code), f"add {_names(defs, 'definitions')}", "add new definitions"
    gone = [d for f in files if not _is_test(f) for d in f.removed_defs]
    if gone:
        code = [f for f in files if f.removed_defs and not _is_test(f)]
        return "refactor", _scope(code), f"remove {_names(gone, 'definitions')}", "remove definitions"
    if all(f.status == "added" for f in files):
        return "feat", _scope(files) if n > 1 else None, f"add {_files(files)}", f"add {n} files"
    return "chore", _scope(files) if n > 1 else None, f"update {_files(files)}", short


def subject(files: Sequence[FileDiff], style: str) -> str:
    kind, scope, desc, short = classify(files)
    for text in (desc, short):
        if style == "conventional":
            line = f"{kind}({scope}): {text}" if scope else f"{kind}: {text}"
        elif style == "gitmoji":
            line = f"{GITMOJI.get(kind, '🔧')} {text[0].upper()}{text[1:]}"
        else:
            line = text[0].upper() + text[1:]
        if len(line) <= MAX_SUBJECT:
            return line
    return line[:MAX_SUBJECT].rstrip()


def body(files: Sequence[FileDiff], limit: int = 10) -> str:
    lines = []
    for f in files[:limit]:
        what = f.summary() if f.folded else f"{f.path}: {f.status} (+{f.added} -{f.removed})"
        lines.append(f"- {what}")
    if len(files) > limit:
        lines.append(f"- and {len(files) - limit} more files")
    return "\n".join(lines)


def draft(files: Sequence[FileDiff], style: str) -> str:
    """A whole message: the subject, a blank line, and what changed per file."""
    if not files:
        raise ValueError("nothing staged")
    return f"{subject(files, style)}\n\n{body(files)}"


def payload_of(files: Sequence[FileDiff], style: str) -> dict[str, Any]:
    return {"files": [dataclasses.asdict(f) for f in files], "style": style}


def offline(payload: Mapping[str, Any]) -> str:
    """The offline provider's handler for commit_message."""
    return draft(files_of(payload), str(payload.get("style", "plain")))


def files_of(payload: Mapping[str, Any]) -> list[FileDiff]:
    rows = payload["files"]
    return [FileDiff(**{**f, "submodule": f["submodule"] and tuple(f["submodule"])}) for f in rows]


# --- changelog entries ---------------------------------------------------

ENTRY_SECTION = {"feat": "Added", "fix": "Fixed"}
QUIET_FILES = {".gitignore", ".gitattributes", ".pre-commit-config.yaml", ".editorconfig", "changelog.md"}


def user_visible(files: Sequence[FileDiff]) -> bool:
    """Worth a changelog entry: something beyond tests, docs, CI, lock files and repo plumbing."""
    for f in files:
        name = PurePosixPath(f.path).name.lower()
        if not (_is_test(f) or _is_doc(f) or _is_ci(f) or f.kind == "lock" or name in QUIET_FILES):
            return True
    return False


def changelog_entry(files: Sequence[FileDiff]) -> tuple[str, str]:
    """(section, entry) for the staged change."""
    kind, scope, desc, _short = classify(files)
    section = ENTRY_SECTION.get(kind, "Changed")
    if desc.startswith("remove "):
        section = "Removed"
    text = desc[0].upper() + desc[1:]
    return section, f"{text} in {scope}." if scope and kind == "feat" else f"{text}."


def offline_changelog(payload: Mapping[str, Any]) -> str:
    """The offline provider's handler for changelog_entry: `Section: entry`."""
    section, entry = changelog_entry(files_of(payload))
    return f"{section}: {entry}"
