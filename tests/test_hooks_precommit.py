"""End to end through the real pre-commit framework and real `git commit`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import git
from hooks_support import (
    MANIFEST,
    PRE_COMMIT,
    commit,
    last_message,
    local_hooks,
    manifest,
    run,
    write,
    write_config,
)
from stub_api import Reply, StubAPI


def test_manifest_is_valid_for_pre_commit() -> None:
    proc = run(MANIFEST.parent, PRE_COMMIT, "validate-manifest", str(MANIFEST))
    assert proc.returncode == 0


def test_manifest_offers_the_three_hooks_on_their_stages() -> None:
    hooks = {h["id"]: h for h in manifest()}
    assert hooks["codetier-commit-msg"]["stages"] == ["prepare-commit-msg"]
    assert "pre-commit" in hooks["codetier-fix"]["stages"]
    assert hooks["codetier-fix"]["types_or"] == ["python", "pyi"]
    assert "pre-commit" in hooks["codetier-changelog"]["stages"]
    assert all(h["language"] == "python" for h in hooks.values())


def test_local_config_mirrors_the_manifest() -> None:
    local = {h["id"]: h for h in local_hooks(["codetier-commit-msg", "codetier-fix", "codetier-changelog"])}
    for hook in manifest():
        mirrored = local[hook["id"]]
        assert {k: v for k, v in mirrored.items() if k not in ("language", "entry")} == {
            k: v for k, v in hook.items() if k not in ("language", "entry")
        }
        assert mirrored["entry"].endswith(hook["entry"].removeprefix("python"))


@pytest.fixture
def installed(repo: Path) -> Path:
    """pre-commit installed for prepare-commit-msg, the config already committed."""
    write_config(repo, ["codetier-commit-msg"])
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "chore: add pre-commit config")
    run(repo, PRE_COMMIT, "install", "--hook-type", "prepare-commit-msg")
    return repo


def test_commit_without_m_takes_the_message_from_the_model(installed: Path, stub: StubAPI) -> None:
    stub.script(Reply("feat(parser): add parse_header\n\nParse the header line."), model="claude-haiku-5-5")
    write(installed, "src/parser.py", "def parse_header(line):\n    return line.split(':')\n")
    git(installed, "add", "src/parser.py")
    proc = commit(installed)
    assert last_message(installed) == "feat(parser): add parse_header\n\nParse the header line."
    assert stub.calls == 1
    assert "parse_header" in stub.requests[0].text
    assert "codetier commit message" in proc.stdout + proc.stderr  # pre-commit ran our hook


def test_commit_with_m_keeps_the_users_message(installed: Path, stub: StubAPI) -> None:
    write(installed, "a.py", "x = 1\n")
    git(installed, "add", "a.py")
    commit(installed, "-m", "x")
    assert last_message(installed) == "x"
    assert stub.calls == 0


def test_stub_down_the_commit_still_succeeds_with_the_offline_draft(
    installed: Path, dead_api: str, isolated: Path
) -> None:
    write(installed, "README.md", "# Project\n")
    git(installed, "add", "README.md")
    proc = commit(installed)
    assert proc.returncode == 0
    assert last_message(installed).splitlines()[0] == "docs: update README.md"
    assert "offline draft" in proc.stdout + proc.stderr
    db = sqlite3.connect(isolated / "codetier" / "ledger.db")
    rows = db.execute("SELECT tier, provider, outcome, source FROM attempts ORDER BY id").fetchall()
    assert rows[-1] == ("tool", "offline", "ok", "hook")
    assert ("fast", "anthropic", "provider_error", "hook") in [(r[0], "anthropic", r[2], r[3]) for r in rows]


def test_fix_hook_rewrites_and_fails_then_passes_once_restaged(repo: Path) -> None:
    write_config(repo, ["codetier-fix"])
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "chore: add pre-commit config")
    run(repo, PRE_COMMIT, "install")
    write(repo, "app.py", "import os\nx=[1,2,\n3]\n")
    git(repo, "add", "app.py")
    first = commit(repo, "-m", "feat: add app", check=False)
    assert first.returncode != 0
    assert (repo / "app.py").read_text() == "x = [1, 2, 3]\n"
    git(repo, "add", "app.py")
    commit(repo, "-m", "feat: add app")
    assert last_message(repo) == "feat: add app"


def test_changelog_hook_adds_an_entry_once_then_lets_the_commit_through(repo: Path, stub: StubAPI) -> None:
    write_config(repo, ["codetier-changelog"])
    write(repo, "CHANGELOG.md", "# Changelog\n\n## [Unreleased]\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "chore: add pre-commit config")
    run(repo, PRE_COMMIT, "install")
    stub.script(Reply("Added: A search command."))
    write(repo, "src/search.py", "def search(q):\n    return []\n")
    git(repo, "add", "src/search.py")
    first = commit(repo, "-m", "feat: add search", check=False)
    assert first.returncode != 0
    assert "review it and `git add CHANGELOG.md`" in first.stdout + first.stderr
    assert (
        repo / "CHANGELOG.md"
    ).read_text() == "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- A search command.\n"
    git(repo, "add", "CHANGELOG.md")
    commit(repo, "-m", "feat: add search")
    assert git(repo, "show", "--stat", "--format=", "HEAD").count("|") == 2
    assert stub.calls == 1
