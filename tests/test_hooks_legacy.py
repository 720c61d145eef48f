"""`codetier hooks install --force` keeps a foreign hook as `<hook>.legacy`
and runs it first, with the same arguments (pre-commit's migration mode)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import git
from hooks_support import commit, last_message, write

from codetier import cli


def foreign(repo: Path, name: str, body: str) -> Path:
    path = repo / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def install(*flags: str) -> None:
    assert cli.main(["hooks", "install", "--force", *flags]) == 0


def test_the_legacy_prepare_commit_msg_runs_first_with_the_same_arguments(repo: Path) -> None:
    log = repo.parent / "legacy-args"
    foreign(repo, "prepare-commit-msg", f'echo "$@" > "{log}"\necho "from the old hook" > "$1"\n')
    install()
    write(repo, "a.py", "a = 1\n")
    git(repo, "add", "a.py")
    commit(repo)
    assert log.read_text().split() == [".git/COMMIT_EDITMSG"]
    assert last_message(repo) == "from the old hook"  # codetier leaves a message that is there


def test_a_failing_legacy_prepare_commit_msg_fails_the_commit(repo: Path) -> None:
    foreign(repo, "prepare-commit-msg", "echo 'old hook says no' >&2\nexit 3\n")
    install()
    write(repo, "a.py", "a = 1\n")
    git(repo, "add", "a.py")
    proc = commit(repo, "-m", "x", check=False)
    assert proc.returncode != 0
    assert "old hook says no" in proc.stderr


def test_a_failing_legacy_pre_commit_fails_the_commit_and_codetier_still_runs(repo: Path) -> None:
    foreign(repo, "pre-commit", "echo 'old pre-commit says no' >&2\nexit 1\n")
    install("--fix")
    write(repo, "app.py", "x=[1,2,\n3]\n")
    git(repo, "add", ".")
    proc = commit(repo, "-m", "feat: app", check=False)
    assert proc.returncode != 0
    assert "old pre-commit says no" in proc.stderr
    assert "reformatted app.py" in proc.stderr
    assert git(repo, "rev-list", "--all").strip() == ""


def test_a_passing_legacy_pre_commit_lets_the_commit_through(repo: Path) -> None:
    marker = repo.parent / "ran"
    foreign(repo, "pre-commit", f'touch "{marker}"\n')
    install("--fix")
    write(repo, "app.py", "x = 1\n")
    git(repo, "add", ".")
    commit(repo, "-m", "feat: app")
    assert marker.exists()
    assert last_message(repo) == "feat: app"


def test_the_documented_pre_commit_config_names_no_tag_that_does_not_exist() -> None:
    root = Path(__file__).resolve().parents[1]
    tags = git(root, "tag", "--list").split()
    for doc in (root / ".pre-commit-hooks.yaml", root / "docs" / "hooks.md"):
        text = doc.read_text()
        assert "<owner>" not in text, doc
        for line in text.splitlines():
            if "rev: v" in line:
                assert line.split("rev:")[1].split()[0] in tags, f"{doc}: {line.strip()}"
        assert "commit sha" in text.lower(), doc


def test_install_swaps_each_hook_in_whole(repo: Path) -> None:
    """A hook is replaced by a rename, never rewritten in place: a commit running meanwhile
    sees the old hook or the new one, whole and executable. The old one is kept as it was,
    and nothing else is left behind."""
    hooks = repo / ".git" / "hooks"
    before = {p.name for p in hooks.iterdir()}
    old = foreign(repo, "pre-commit", "exit 0\n").read_text()
    install("--fix")
    first = (hooks / "pre-commit").stat().st_ino
    install("--fix")  # ours this time: rewritten in place before
    assert (hooks / "pre-commit").stat().st_ino != first
    assert (hooks / "pre-commit.legacy").read_text() == old
    assert os.access(hooks / "pre-commit.legacy", os.X_OK)
    assert os.access(hooks / "pre-commit", os.X_OK) and "codetier" in (hooks / "pre-commit").read_text()
    left = {p.name for p in hooks.iterdir()} - before
    assert left == {"pre-commit", "pre-commit.legacy", "prepare-commit-msg"}


def test_a_hook_that_is_a_link_is_kept_as_a_link(repo: Path) -> None:
    """Hook managers link hooks in; a dangling link is still the user's hook."""
    hooks = repo / ".git" / "hooks"
    (hooks / "prepare-commit-msg").symlink_to("/nowhere/hook")
    install()
    legacy = hooks / "prepare-commit-msg.legacy"
    assert legacy.is_symlink() and os.readlink(legacy) == "/nowhere/hook"
    assert "codetier" in (hooks / "prepare-commit-msg").read_text()
    assert not [p for p in hooks.iterdir() if ".codetier-" in p.name]
