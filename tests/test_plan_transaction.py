"""All-or-nothing apply and undo points, on real files in a real git repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git

from codetier.errors import CodetierError
from codetier.plan import transaction
from codetier.plan.patch import FileEdit
from codetier.plan.transaction import ApplyRefused


@pytest.fixture
def committed(repo: Path) -> Path:
    (repo / "a.txt").write_bytes(b"alpha\r\nno newline")
    (repo / "tool.sh").write_text("echo hi\n")
    os.chmod(repo / "tool.sh", 0o755)
    (repo / "d").write_text("a file where a directory would go\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def test_a_failed_write_restores_what_was_written(committed: Path) -> None:
    edits = {
        "a.txt": FileEdit("a.txt", "alpha\r\nno newline", "changed\n"),
        "d/b.txt": FileEdit("d/b.txt", None, "cannot exist: d is a file\n"),
    }
    with pytest.raises(CodetierError, match=r"could not write d/b\.txt.*nothing applied"):
        transaction.apply(committed, edits, "ct_x")
    assert (committed / "a.txt").read_bytes() == b"alpha\r\nno newline"
    assert transaction.points(committed) == []


def test_a_file_changed_while_the_plan_ran_is_never_overwritten(committed: Path) -> None:
    edits = {"a.txt": FileEdit("a.txt", "what the plan read\n", "new\n")}
    with pytest.raises(ApplyRefused, match=r"changed while the plan ran, nothing applied: a\.txt"):
        transaction.apply(committed, edits, "ct_x", force=True)


def test_apply_keeps_the_file_mode_and_undo_restores_bytes(committed: Path) -> None:
    edits = {"tool.sh": FileEdit("tool.sh", "echo hi\n", "echo bye\n")}
    point = transaction.apply(committed, edits, "ct_x")
    assert point.dir.is_relative_to(committed / ".git" / "codetier" / "undo")
    assert (committed / "tool.sh").stat().st_mode & 0o777 == 0o755
    transaction.undo(committed)
    assert (committed / "tool.sh").read_bytes() == b"echo hi\n"
    assert (committed / "tool.sh").stat().st_mode & 0o777 == 0o755


def test_undo_points_stack(committed: Path) -> None:
    transaction.apply(committed, {"a.txt": FileEdit("a.txt", "alpha\r\nno newline", "one\n")}, "ct_1")
    git(committed, "commit", "-qam", "one")
    transaction.apply(committed, {"a.txt": FileEdit("a.txt", "one\n", "two\n")}, "ct_2")
    transaction.undo(committed)
    assert (committed / "a.txt").read_text() == "one\n"
    transaction.undo(committed)
    assert (committed / "a.txt").read_bytes() == b"alpha\r\nno newline"
    assert [p.manifest["request_id"] for p in transaction.points(committed)] == ["ct_2", "ct_1"]


def test_outside_git_undo_points_live_under_codetier_home(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "f.txt").write_text("x\n")
    point = transaction.apply(plain, {"f.txt": FileEdit("f.txt", "x\n", "y\n")}, "ct_x")
    assert point.dir.is_relative_to(Path(os.environ["CODETIER_HOME"]) / "undo")
    transaction.undo(plain)
    assert (plain / "f.txt").read_text() == "x\n"
