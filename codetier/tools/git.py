"""git through plain subprocess calls.

GitPython is kept off this path on purpose: it costs ~120 ms to import and
its `index.diff("HEAD")` fails before the first commit. Every hook runs
through here, so each helper is one `git` process and nothing more.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from codetier.errors import CodetierError

# Paths as bytes on disk, not octal escapes: non-ASCII names stay readable.
_BASE = ("git", "-c", "core.quotepath=false")


class GitError(CodetierError):
    """A git command failed; the message carries git's own first line."""


def run_bytes(root: Path, *args: str, check: bool = True) -> bytes:
    proc = subprocess.run([*_BASE, *args], cwd=root, capture_output=True, check=False)
    if check and proc.returncode != 0:
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise GitError(f"git {args[0]} failed: {first[0] if first else f'exit {proc.returncode}'}")
    return proc.stdout


def run(root: Path, *args: str, check: bool = True) -> str:
    """stdout as text; bytes that are not UTF-8 become U+FFFD, never an error."""
    return run_bytes(root, *args, check=check).decode("utf-8", "replace")


def toplevel(start: Path | None = None) -> Path:
    out = run(start or Path.cwd(), "rev-parse", "--show-toplevel").strip()
    return Path(out)


def has_head(root: Path) -> bool:
    return bool(run(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip())


def staged_diff(root: Path) -> str:
    """The staged change as a unified diff, renames detected. Works before the first commit."""
    return run(root, "diff", "--cached", "--no-color", "--no-ext-diff", "-M", "--submodule=short")


def staged_names(root: Path, *, diff_filter: str = "ACMR") -> list[str]:
    raw = run_bytes(root, "diff", "--cached", "--name-only", "-z", f"--diff-filter={diff_filter}")
    return [p.decode("utf-8", "surrogateescape") for p in raw.split(b"\0") if p]


def branch(root: Path) -> str | None:
    """The current branch, or None on a detached HEAD."""
    out = run(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    return out or None


def recent_subjects(root: Path, n: int = 10) -> list[str]:
    """The last `n` commit subjects, newest first; [] before the first commit."""
    if not has_head(root):
        return []
    out = run(root, "log", f"-{n}", "--no-merges", "--format=%s")
    return [line for line in out.splitlines() if line.strip()]


def tags(root: Path) -> list[str]:
    """Tags reachable from HEAD, newest first."""
    out = run(root, "tag", "--merged", "HEAD", "--sort=-creatordate", check=False)
    return [t for t in out.splitlines() if t]


def last_tag(root: Path) -> str | None:
    out = run(root, "describe", "--tags", "--abbrev=0", check=False).strip()
    return out or None


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    body: str


def commits_since(root: Path, ref: str | None) -> list[Commit]:
    """Non-merge commits after `ref` (all of them when None), oldest first."""
    if not has_head(root):
        return []
    spec = f"{ref}..HEAD" if ref else "HEAD"
    out = run(root, "log", "--reverse", "--no-merges", "--format=%H%x00%s%x00%b%x1e", spec)
    commits = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, subject, body = [*record.split("\x00"), "", ""][:3]
        commits.append(Commit(sha, subject, body.strip()))
    return commits


def git_path(root: Path, name: str) -> Path:
    """A path inside the git dir (`hooks`, `MERGE_HEAD`), honouring worktrees and core.hooksPath."""
    out = run(root, "rev-parse", "--git-path", name).strip()
    path = Path(out)
    return path if path.is_absolute() else root / path
