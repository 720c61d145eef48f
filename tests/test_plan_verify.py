"""The combined check runs the verify command on the tree as it would be:
uncommitted work included, the change on top, the real tree untouched."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import git

from codetier.plan import verify
from codetier.plan.patch import FileEdit

# Prints what the scratch tree holds, and fails unless it holds what we expect.
PROBE = (
    f'{sys.executable} -c "import pathlib as p; '
    "assert p.Path('edited.txt').read_text() == 'after\\n'; "
    "assert p.Path('wip.txt').read_text() == 'uncommitted\\n'; "
    "assert not p.Path('deleted.txt').exists()\""
)


def _tree(repo: Path, *, commit: bool) -> None:
    (repo / "edited.txt").write_text("before\n")
    (repo / "deleted.txt").write_text("soon gone\n")
    if commit:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "init")
    (repo / "wip.txt").write_text("uncommitted\n")
    (repo / "deleted.txt").unlink()


def test_worktree_holds_uncommitted_work_and_the_change(repo: Path) -> None:
    _tree(repo, commit=True)
    edits = {"edited.txt": FileEdit("edited.txt", "before\n", "after\n")}

    assert verify.run_command(repo, edits, PROBE, 60).ok
    assert (repo / "edited.txt").read_text() == "before\n"
    assert git(repo, "worktree", "list").count("\n") == 1


def test_before_the_first_commit_a_temp_copy_is_used(repo: Path) -> None:
    _tree(repo, commit=False)
    edits = {"edited.txt": FileEdit("edited.txt", "before\n", "after\n")}

    assert verify.run_command(repo, edits, PROBE, 60).ok


def test_failure_carries_the_tail_of_the_output(repo: Path) -> None:
    _tree(repo, commit=True)
    edits = {"edited.txt": FileEdit("edited.txt", "before\n", "after\n")}

    verdict = verify.run_command(
        repo, edits, f"{sys.executable} -c \"print('boom'); raise SystemExit(3)\"", 60
    )

    assert (verdict.ok, verdict.stage) == (False, "verify_command")
    assert "exited 3" in verdict.detail and "boom" in verdict.detail


def test_git_apply_check_catches_a_stale_base(repo: Path) -> None:
    _tree(repo, commit=True)
    edits = {"edited.txt": FileEdit("edited.txt", "what the plan saw\n", "after\n")}

    verdict = verify.combined(repo, edits, "", 60)

    assert (verdict.ok, verdict.stage) == (False, "git apply")
