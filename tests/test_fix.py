"""`codetier fix` and the fix hook: ruff first, a model only when `fix.llm = true`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from codetier_hooks import fix as hook
from conftest import git
from hooks_support import write
from stub_api import Reply, StubAPI

from codetier import cli

UNFORMATTED = "import os\nx=[1,2,\n3]\n"
UNFIXABLE = "def f():\n    return undefined_name\n"  # F821: ruff cannot fix it
FIXED = "def f(undefined_name):\n    return undefined_name\n"


def test_formats_and_fixes_then_says_what_it_did(
    repo: Path, capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    write(repo, "app.py", UNFORMATTED)
    assert cli.main(["fix", "app.py"]) == 0
    assert (repo / "app.py").read_text() == "x = [1, 2, 3]\n"
    assert "reformatted app.py" in capsys.readouterr().out
    db = sqlite3.connect(isolated / "codetier" / "ledger.db")
    assert db.execute("SELECT task, tier, provider, outcome FROM attempts").fetchall() == [
        ("format_fix", "tool", "tool", "ok")
    ]


def test_without_paths_it_takes_every_python_file_of_the_repo(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "a.py", "x=1\n")
    write(repo, "pkg/b.py", "y=2\n")
    write(repo, "notes.txt", "x=1\n")
    assert cli.main(["fix"]) == 0
    assert (repo / "a.py").read_text() == "x = 1\n" and (repo / "pkg/b.py").read_text() == "y = 2\n"
    assert (repo / "notes.txt").read_text() == "x=1\n"


def test_what_ruff_cannot_fix_is_reported_with_exit_1(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "bad.py", UNFIXABLE)
    assert cli.main(["fix", "bad.py"]) == 1
    assert "left for you: bad.py:2:12: F821" in capsys.readouterr().out
    assert stub.calls == 0  # fix.llm is off by default


def test_with_fix_llm_the_fast_tier_fixes_what_ruff_left(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".codetier.toml").write_text("[fix]\nllm = true\n")
    write(repo, "bad.py", UNFIXABLE)
    stub.script(Reply(f"```python\n{FIXED}```"), model="claude-haiku-5-5")
    assert cli.main(["fix", "bad.py"]) == 0
    assert (repo / "bad.py").read_text() == FIXED
    assert "fixed by a model bad.py" in capsys.readouterr().out
    assert "F821" in stub.requests[0].text


def test_a_rewrite_that_ruff_still_rejects_escalates_then_is_reported(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".codetier.toml").write_text("[fix]\nllm = true\n")
    write(repo, "bad.py", UNFIXABLE)
    stub.script(Reply(f"```python\n{UNFIXABLE}```"), model="claude-haiku-5-5")
    stub.script(Reply("```python\ndef f(:\n```"), model="claude-sonnet-5-5")
    assert cli.main(["fix", "bad.py"]) == 1
    out, err = capsys.readouterr()
    assert (repo / "bad.py").read_text() == UNFIXABLE
    assert "left for you: bad.py:2:12: F821" in out
    assert "bad.py: left as it was" in err
    assert "ruff still reports" in stub.texts_for("claude-sonnet-5-5")[0]


def test_fix_llm_without_a_key_reports(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text("[fix]\nllm = true\n")
    write(repo, "bad.py", UNFIXABLE)
    assert cli.main(["fix", "bad.py"]) == 1
    assert "no ANTHROPIC_API_KEY" in capsys.readouterr().err


def test_a_missing_path_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("import os\nx=1\n")
    assert cli.main(["fix", "app.py", "nope.py"]) == 2  # a usage error, as click's own path checks
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.py: no such file" in err
    assert (repo / "app.py").read_text() == "import os\nx=1\n"  # nothing touched


def test_hook_fails_when_it_changed_a_file_and_passes_when_clean(repo: Path) -> None:
    write(repo, "app.py", UNFORMATTED)
    git(repo, "add", ".")
    assert hook.main(["app.py"]) == 1
    assert hook.main(["app.py"]) == 0


def test_hook_without_files_takes_the_staged_python_files(repo: Path) -> None:
    write(repo, "staged.py", "a=1\n")
    write(repo, "unstaged.py", "b=2\n")
    git(repo, "add", "staged.py")
    assert hook.main([]) == 1
    assert (repo / "staged.py").read_text() == "a = 1\n"
    assert (repo / "unstaged.py").read_text() == "b=2\n"


def test_hook_reports_remaining_lint_without_blocking(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "bad.py", UNFIXABLE)
    assert hook.main(["bad.py"]) == 0
    assert "left for you: bad.py:2:12: F821" in capsys.readouterr().err


def test_a_model_fix_keeps_crlf_and_can_be_undone(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CRLF file stays CRLF (a fix must not rewrite every line), and the rewrite leaves
    an undo point like any other codetier edit."""
    (repo / ".codetier.toml").write_text("[fix]\nllm = true\n")
    original = UNFIXABLE.replace("\n", "\r\n").encode()
    (repo / "bad.py").write_bytes(original)
    stub.script(Reply(f"```python\n{FIXED}```"), model="claude-haiku-5-5")
    assert cli.main(["fix", "bad.py"]) == 0
    assert (repo / "bad.py").read_bytes() == FIXED.replace("\n", "\r\n").encode()
    assert "undo point" in capsys.readouterr().err
    assert cli.main(["undo"]) == 0
    assert (repo / "bad.py").read_bytes() == original
