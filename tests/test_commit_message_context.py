"""The commit-message context on the edge cases of real repos."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git
from hooks_support import write

from codetier import diffs, drafts
from codetier.chores import commit_message as cm


def first_commit(repo: Path, subject: str = "feat: start") -> None:
    write(repo, "README.md", "# demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", subject)


def test_initial_commit_has_no_head_no_subjects_and_a_plain_style(repo: Path) -> None:
    write(repo, "app.py", "def main():\n    pass\n")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    assert ctx.subjects == ()
    assert ctx.style == "plain"
    assert ctx.branch == "main"
    assert [f.status for f in ctx.files] == ["added"]
    assert "(none: this is the first commit)" in cm.prompt(ctx, 1000)


def test_nothing_staged_is_a_clear_error(repo: Path) -> None:
    first_commit(repo)
    write(repo, "untracked.py", "x = 1\n")
    with pytest.raises(cm.NothingStaged, match="nothing staged"):
        cm.gather(repo)


def test_binary_files_become_one_summary_line(repo: Path) -> None:
    first_commit(repo)
    write(repo, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    (f,) = ctx.files
    assert f.kind == "binary"
    assert "- logo.png: binary file added" in cm.prompt(ctx, 1000)
    assert drafts.subject(ctx.files, ctx.style) == "feat: add logo.png"


def test_renames_are_detected_and_drafted(repo: Path) -> None:
    write(repo, "old_name.py", "".join(f"line_{i} = {i}\n" for i in range(20)))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "feat: start")
    git(repo, "mv", "old_name.py", "new_name.py")
    ctx = cm.gather(repo)
    (f,) = ctx.files
    assert (f.status, f.old_path, f.path) == ("renamed", "old_name.py", "new_name.py")
    assert drafts.subject(ctx.files, ctx.style) == "refactor: rename old_name.py to new_name.py"
    assert cm.check_message("refactor: rename old_name.py to new_name.py", ctx).ok


def test_deletions_only(repo: Path) -> None:
    write(repo, "gone.py", "x = 1\n")
    first_commit(repo)
    git(repo, "rm", "-q", "gone.py")
    ctx = cm.gather(repo)
    assert [f.status for f in ctx.files] == ["deleted"]
    assert drafts.subject(ctx.files, ctx.style) == "chore: remove gone.py"


def test_non_utf8_content_is_read_without_error(repo: Path) -> None:
    first_commit(repo)
    write(repo, "latin1.txt", "café crème\n".encode("latin-1"))
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    assert ctx.files[0].path == "latin1.txt"
    assert "caf\ufffd cr\ufffdme" in cm.prompt(ctx, 1000)


def test_file_names_with_spaces_and_non_ascii(repo: Path) -> None:
    first_commit(repo)
    write(repo, "docs/my notes.md", "hello\n")
    write(repo, "src/größe überall.py", "def größe():\n    return 1\n")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    assert sorted(f.path for f in ctx.files) == ["docs/my notes.md", "src/größe überall.py"]
    assert "--- src/größe überall.py (added, +2 -0)" in cm.prompt(ctx, 1000)
    assert drafts.subject(ctx.files, ctx.style) == "feat: add größe"  # no scope: the stem has a space


def test_names_git_quotes_are_unquoted(repo: Path) -> None:
    first_commit(repo)
    write(repo, "ta\tb.py", "x = 1\n")
    write(repo, 'say "hi".py', "y = 1\n")
    write(repo, "b/c.py", "z = 1\n")
    git(repo, "add", ".")
    git(repo, "mv", "README.md", "read\tme.md")
    ctx = cm.gather(repo)
    assert sorted(f.path for f in ctx.files) == ["b/c.py", "read\tme.md", 'say "hi".py', "ta\tb.py"]
    assert [f.old_path for f in ctx.files if f.status == "renamed"] == ["README.md"]


def test_a_20000_line_diff_is_trimmed_to_the_budget_with_a_note(repo: Path) -> None:
    first_commit(repo)
    write(repo, "big.py", "".join(f"value_{i} = {i}\n" for i in range(20_000)))
    write(repo, "small.py", "def small():\n    return 1\n")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    text = cm.prompt(ctx, 2_000)
    assert len(text.encode()) < 2_000 * 3.2 + 2_000  # the budget plus the fixed framing
    assert "+def small():" in text  # small files are shown whole
    assert "big.py:" in text and "of 20001 diff lines cut" in text
    assert "[... " in text and "more lines of big.py cut to fit the budget]" in text


def test_detached_head_says_so_in_the_prompt(repo: Path) -> None:
    first_commit(repo)
    git(repo, "checkout", "-q", "--detach")
    write(repo, "a.py", "x = 1\n")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    assert ctx.branch is None
    assert "Branch: (detached HEAD)" in cm.prompt(ctx, 1000)


def test_a_submodule_bump_is_one_summary_line(repo: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    write(lib, "x.txt", "1\n")
    git(lib, "add", ".")
    git(lib, "commit", "-q", "-m", "one")
    old = git(lib, "rev-parse", "HEAD").strip()
    first_commit(repo)
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor_lib"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    git(repo, "commit", "-q", "-m", "chore: add lib")
    sub = repo / "vendor_lib"
    write(sub, "x.txt", "2\n")
    git(sub, "commit", "-q", "-am", "two")
    new = git(sub, "rev-parse", "HEAD").strip()
    git(repo, "add", "vendor_lib")
    ctx = cm.gather(repo)
    (f,) = ctx.files
    assert f.kind == "submodule"
    assert f.summary() == f"vendor_lib: submodule bumped {old[:7]}..{new[:7]}"
    assert drafts.subject(ctx.files, ctx.style) == "chore: bump submodule vendor_lib"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("uv.lock", "lock"),
        ("web/package-lock.json", "lock"),
        ("vendor/lib/x.py", "vendored"),
        ("static/app.min.js", "minified"),
        ("api/service_pb2.py", "generated"),
        ("src/app.py", "text"),
        (".env", "env"),
        ("config/prod.env", "env"),
    ],
)
def test_noise_is_classified_by_path(path: str, kind: str) -> None:
    diff = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    (f,) = diffs.parse(diff)
    assert f.kind == kind
    if kind != "text":
        assert f.body == ""


def test_long_lines_count_as_minified_and_marked_files_as_generated() -> None:
    long = "x" * 2_000
    d1 = f"diff --git a/a.js b/a.js\n--- a/a.js\n+++ b/a.js\n@@ -1 +1 @@\n-a\n+{long}\n"
    d2 = (
        "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1 +1,2 @@\n-a\n+# @generated by tool\n+x = 1\n"
    )
    assert [f.kind for f in diffs.parse(d1 + d2)] == ["minified", "generated"]


def test_merge_and_amend_leave_gathering_to_git(repo: Path) -> None:
    """A merge or an amend never reaches gather: the hook stops at git's source argument."""
    from codetier_hooks import prepare_commit_msg as hook

    msg = repo / "MSG"
    for source in ("merge", "commit"):
        msg.write_text("Merge branch 'x'\n")
        assert hook.main([str(msg), source, "HEAD"]) == 0
        assert msg.read_text() == "Merge branch 'x'\n"


def test_offline_subject_names_removed_definitions(repo: Path) -> None:
    write(repo, "src/parser.py", "def keep():\n    pass\n\n\ndef old_parse():\n    pass\n")
    first_commit(repo)
    write(repo, "src/parser.py", "def keep():\n    pass\n")
    git(repo, "add", ".")
    ctx = cm.gather(repo)
    assert drafts.subject(ctx.files, ctx.style) == "refactor(parser): remove old_parse"


def fd(path: str, status: str = "modified", kind: str = "text", defs: tuple[str, ...] = ()) -> diffs.FileDiff:
    return diffs.FileDiff(path, None, status, kind, 1, 1, "", added_defs=defs)


@pytest.mark.parametrize(
    ("files", "style", "subject"),
    [
        ([fd("src/parser.py", defs=("parse_header",))], "conventional", "feat(parser): add parse_header"),
        ([fd("src/parser.py", defs=("parse_header",))], "plain", "Add parse_header"),
        ([fd("src/parser.py", defs=("parse_header",))], "gitmoji", "✨ Add parse_header"),
        ([fd("README.md")], "conventional", "docs: update README.md"),
        ([fd("README.md"), fd("docs/usage.md")], "plain", "Update README.md and docs/usage.md"),
        ([fd(".github/workflows/ci.yml")], "conventional", "ci: update .github/workflows/ci.yml"),
        (
            [fd("uv.lock", kind="lock"), fd("pyproject.toml")],
            "conventional",
            "build: update uv.lock and pyproject.toml",
        ),
        ([fd("tests/test_a.py", "added")], "conventional", "test: add tests/test_a.py"),
        ([fd("src/a.py"), fd("src/b.py")], "conventional", "chore(src): update src/a.py and src/b.py"),
        (
            [fd(f"src/m{i}.py") for i in range(5)],
            "conventional",
            "chore(src): update src/m0.py and 4 more files",
        ),
        ([fd("a" * 80 + ".py")], "conventional", "chore: update " + "a" * 58),
    ],
)
def test_offline_subjects_follow_the_repo_style(
    files: list[diffs.FileDiff], style: str, subject: str
) -> None:
    assert drafts.subject(files, style) == subject
    assert len(subject) <= 72
