"""Check the combined change before anything touches the tree: `git apply
--check` against the working tree, every touched Python file parses, and the
optional verify_command passes in a temporary worktree (a temp copy before
the first commit). The user's tree is never written here."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from codetier.plan import patch, repomap
from codetier.plan.execute import python_problem

TAIL_LINES = 30


@dataclass(frozen=True)
class Verdict:
    ok: bool
    stage: str = ""  # "git apply", "parse", "verify_command"
    detail: str = ""


def _git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def is_git(root: Path) -> bool:
    return _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"


def git_apply_check(root: Path, diff: str) -> Verdict:
    proc = _git(root, "apply", "--check", "--whitespace=nowarn", "-", stdin=diff)
    if proc.returncode != 0:
        return Verdict(False, "git apply", proc.stderr.strip() or "git apply --check failed")
    return Verdict(True)


def parse_all(edits: Mapping[str, patch.FileEdit]) -> Verdict:
    problems = [p for e in edits.values() if (p := python_problem(e.path, e.after))]
    return Verdict(False, "parse", "; ".join(problems)) if problems else Verdict(True)


@contextlib.contextmanager
def scratch_tree(root: Path) -> Iterator[Path]:
    """A throwaway copy of the working tree as it is now (uncommitted work included)."""
    tmp = Path(tempfile.mkdtemp(prefix="codetier-verify-"))
    dest = tmp / "tree"
    worktree = is_git(root) and _git(root, "rev-parse", "--verify", "-q", "HEAD").returncode == 0
    try:
        if worktree and _git(root, "worktree", "add", "--detach", "-q", str(dest), "HEAD").returncode == 0:
            changed = _git(root, "ls-files", "-m", "-o", "-d", "--exclude-standard", "-z").stdout
            _overlay(root, dest, [n for n in changed.split("\0") if n])
        else:
            worktree = False
            dest.mkdir()
            _overlay(root, dest, repomap.list_files(root))
        yield dest
    finally:
        if worktree:
            _git(root, "worktree", "remove", "--force", str(dest))
            _git(root, "worktree", "prune")
        shutil.rmtree(tmp, ignore_errors=True)


def _overlay(root: Path, dest: Path, names: list[str]) -> None:
    for name in dict.fromkeys(names):
        src, dst = root / name, dest / name
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.is_file():  # deleted in the working tree
            dst.unlink()


def write_edits(tree: Path, edits: Mapping[str, patch.FileEdit]) -> None:
    for e in edits.values():
        target = tree / e.path
        if e.after is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(e.after.encode("utf-8"))


def run_command(root: Path, edits: Mapping[str, patch.FileEdit], command: str, timeout: float) -> Verdict:
    """Run `command` (a shell line) in a scratch tree holding the change."""
    with scratch_tree(root) as tree:
        write_edits(tree, edits)
        try:
            proc = subprocess.run(
                command,
                shell=True,
                cwd=tree,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Verdict(False, "verify_command", f"`{command}` timed out after {timeout:g} s")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-TAIL_LINES:])
        return Verdict(False, "verify_command", f"`{command}` exited {proc.returncode}:\n{tail}")
    return Verdict(True)


def combined(
    root: Path,
    edits: Mapping[str, patch.FileEdit],
    command: str,
    timeout: float,
    *,
    against_tree: bool = True,
) -> Verdict:
    """Every check in order; the first failure is the verdict. `against_tree`
    False skips `git apply --check` when the change was made against an
    editor's unsaved buffers rather than the files on disk."""
    diff = patch.render(edits)
    if not diff:
        return Verdict(False, "combine", "the subtasks changed nothing")
    checks = [git_apply_check(root, diff)] if against_tree else []
    for verdict in (*checks, parse_all(edits)):
        if not verdict.ok:
            return verdict
    if command:
        return run_command(root, edits, command, timeout)
    return Verdict(True)
