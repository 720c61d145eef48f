"""Where Claude Code keeps its transcripts."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from stat import S_ISREG

from codetier.errors import UsageError


def roots(environ: Mapping[str, str] | None = None) -> list[Path]:
    """`CLAUDE_CONFIG_DIR` (comma-separated) when set, else ~/.config/claude and ~/.claude.
    Each root is a config dir holding `projects/`, or a `projects/` dir itself."""
    env = os.environ if environ is None else environ
    listed = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if listed:
        dirs = [Path(p.strip()).expanduser() for p in listed.split(",") if p.strip()]
    else:
        home = Path(env.get("HOME") or Path.home())
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        dirs = [config / "claude", home / ".claude"]
    out: list[Path] = []
    for d in dirs:
        projects = d if d.name == "projects" else d / "projects"
        if projects.is_dir() and projects.resolve() not in {p.resolve() for p in out}:
            out.append(projects)
    return out


def stats(paths: Sequence[Path]) -> Iterator[tuple[str, int, int]]:
    """Every *.jsonl at or below each path (subagent files included), in a stable order
    (a session file before its subagents/ dir), with its inode and size (-1 when it
    cannot be had): one scandir pass, no path joins, as plain strings, for the repeat
    run that stats thousands of files to find the few that grew."""
    for base in paths:
        if base.is_file():
            yield _stat(str(base))
            continue
        if not base.is_dir():
            what = "not a regular file or directory" if base.exists() else "no such file or directory"
            raise UsageError(f"{base}: {what}")
        found: list[tuple[str, int, int]] = []
        _scan(str(base), found)
        found.sort()  # by path (paths differ: the rest is never compared)
        yield from found


def _stat(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return path, 0, -1
    return path, st.st_ino, st.st_size


def _scan(folder: str, found: list[tuple[str, int, int]]) -> None:
    """The *.jsonl files os.walk would list (not following links to folders), with stats."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return
    for e in entries:
        try:
            is_dir = e.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not e.is_symlink():
                _scan(e.path, found)
        elif e.name.endswith(".jsonl"):
            try:
                st = e.stat()
            except OSError:
                found.append((e.path, 0, -1))
            else:
                if S_ISREG(st.st_mode):  # not a fifo, which would block the reader for good
                    found.append((e.path, st.st_ino, st.st_size))
