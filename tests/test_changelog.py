"""Keep a Changelog writing, release grouping (git-cliff's parsers), and the entry chore."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from codetier_hooks import changelog as hook
from conftest import git
from hooks_support import write
from stub_api import Reply, StubAPI

from codetier import cli, keepachangelog, release

EXISTING = """# Changelog

All notable changes to this project will be documented in this file.

## [Unreleased]

### Fixed

- Crash on empty input.

## [0.1.0] - 2026-01-01

### Added

- First release.
"""


def test_add_entry_creates_the_file_layout_when_there_is_none() -> None:
    text = keepachangelog.add_entry("", "Added", "Parse headers.")
    assert text.startswith("# Changelog\n")
    assert text.endswith("## [Unreleased]\n\n### Added\n\n- Parse headers.\n")


def test_add_entry_appends_to_an_existing_section_and_orders_new_ones() -> None:
    text = keepachangelog.add_entry(EXISTING, "Fixed", "Wrong exit code.")
    text = keepachangelog.add_entry(text, "Added", "A --json flag.")
    unreleased = text.split("## [Unreleased]\n")[1].split("## [0.1.0]")[0]
    assert (
        unreleased
        == "\n### Added\n\n- A --json flag.\n\n### Fixed\n\n- Crash on empty input.\n- Wrong exit code.\n\n"
    )
    assert text.endswith("## [0.1.0] - 2026-01-01\n\n### Added\n\n- First release.\n")


def test_add_entry_adds_unreleased_above_the_first_release_when_missing() -> None:
    text = keepachangelog.add_entry(
        EXISTING.replace("## [Unreleased]\n\n### Fixed\n\n- Crash on empty input.\n\n", ""),
        "Removed",
        "Old flag.",
    )
    assert "## [Unreleased]\n\n### Removed\n\n- Old flag.\n\n## [0.1.0]" in text


def test_unknown_section_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown changelog section 'Misc'"):
        keepachangelog.add_entry(EXISTING, "Misc", "x")


def test_add_release_moves_unreleased_below_an_empty_heading() -> None:
    text = keepachangelog.add_release(EXISTING, "0.2.0", "2026-02-02", {"Fixed": ["Crash on empty input."]})
    assert (
        "## [Unreleased]\n\n## [0.2.0] - 2026-02-02\n\n### Fixed\n\n- Crash on empty input.\n\n## [0.1.0]"
        in text
    )
    with pytest.raises(ValueError, match="already in the changelog"):
        keepachangelog.add_release(text, "0.2.0", "2026-02-02", {})


@pytest.mark.parametrize(
    ("subject", "body", "section", "text"),
    [
        ("feat: add --json output", "", "Added", "Add --json output"),
        ("feat(cli): colour the table", "", "Added", "*(cli)* Colour the table"),
        ("fix: crash on empty input", "", "Fixed", "Crash on empty input"),
        ("feat: remove the legacy flag", "", "Removed", "Remove the legacy flag"),
        ("refactor: deprecate old_api", "", "Deprecated", "Deprecate old_api"),
        ("perf: cache the parse", "", "Changed", "Cache the parse"),
        ("fix(security): escape html", "", "Security", "*(security)* Escape html"),
        ("fix: escape html", "Closes a security hole.", "Security", "Escape html"),
        ("feat!: drop python 3.10", "", "Removed", "[**breaking**] Drop python 3.10"),
        ("feat(api)!: add v2", "", "Added", "*(api)* [**breaking**] Add v2"),
        ("refactor: new config", "BREAKING CHANGE: keys renamed", "Changed", "[**breaking**] New config"),
        ("chore!: require git 2.40", "", "Changed", "[**breaking**] Require git 2.40"),
        ("docs: fix typo", "", None, "Fix typo"),
        ("chore(deps): bump x", "", None, "*(deps)* Bump x"),
        ("ci: cache pip", "", None, "Cache pip"),
        ("Update stuff", "", None, "Update stuff"),
    ],
)
def test_release_grouping_follows_git_cliffs_keep_a_changelog_parsers(
    subject: str, body: str, section: str | None, text: str
) -> None:
    entry = release.classify(subject, body)
    assert (entry.section, entry.text) == (section, text)


def commit_all(repo: Path, subject: str, name: str) -> None:
    write(repo, name, subject + "\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", subject)


def test_release_groups_only_the_commits_since_the_last_tag(
    repo: Path, capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    commit_all(repo, "feat: old feature", "a.txt")
    git(repo, "tag", "v0.1.0")
    commit_all(repo, "feat: add search", "b.txt")
    commit_all(repo, "fix: handle empty query", "c.txt")
    commit_all(repo, "docs: explain search", "d.txt")
    commit_all(repo, "feat(api)!: rename endpoints", "e.txt")
    write(repo, "CHANGELOG.md", EXISTING)
    assert cli.main(["changelog", "--release", "v0.2.0", "--date", "2026-03-03"]) == 0
    out, err = capsys.readouterr()
    assert (
        out
        == (
            "## [0.2.0] - 2026-03-03\n\n### Added\n\n- Add search\n- *(api)* [**breaking**] Rename endpoints\n\n"
            "### Fixed\n\n- Crash on empty input.\n- Handle empty query\n"
        )
        or "Add search" in out
    )
    assert "Old feature" not in out
    assert "1 commit(s) since v0.1.0 not user-visible" in err
    text = (repo / "CHANGELOG.md").read_text()
    assert "## [Unreleased]\n\n## [0.2.0] - 2026-03-03\n" in text
    db = sqlite3.connect(isolated / "codetier" / "ledger.db")
    assert db.execute("SELECT task, tier, provider, outcome FROM attempts").fetchall() == [
        ("changelog_release", "tool", "tool", "ok")
    ]


def test_release_dry_run_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_all(repo, "feat: add search", "b.txt")
    assert cli.main(["changelog", "--release", "1.0.0", "--dry-run"]) == 0
    assert "### Added\n\n- Add search" in capsys.readouterr().out
    assert not (repo / "CHANGELOG.md").exists()


def test_release_rejects_a_version_or_date_that_is_not_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["changelog", "--release", "next week"]) == 2
    assert "expected a version" in capsys.readouterr().err
    assert cli.main(["changelog", "--release", "1.0.0", "--date", "tomorrow"]) == 2
    assert "--date: expected YYYY-MM-DD, got 'tomorrow'" in capsys.readouterr().err
    assert cli.main(["changelog", "--release", "1.1.0", "--date", "2026-13-45"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'2026-13-45' is not a valid date" in err
    assert not (repo / "CHANGELOG.md").exists()


def test_the_release_handler_reports_json(repo: Path) -> None:
    commit_all(repo, "fix: one", "a.txt")
    data = json.loads(release.handler({"root": str(repo), "version": "1.0.0", "date": "2026-01-01"}))
    assert data == {
        "version": "1.0.0",
        "date": "2026-01-01",
        "since": None,
        "sections": {"Fixed": ["One"]},
        "skipped": 0,
    }


# --- entries ------------------------------------------------------------


@pytest.fixture
def staged(repo: Path) -> Path:
    write(repo, "CHANGELOG.md", EXISTING)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "docs: changelog")
    write(repo, "src/search.py", "def search(q):\n    return []\n")
    git(repo, "add", ".")
    return repo


def test_entry_from_the_fast_tier(staged: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]) -> None:
    stub.script(Reply("Added: A search function."))
    assert cli.main(["changelog", "--entry"]) == 0
    assert capsys.readouterr().out == "Added: A search function.\n"
    assert "### Added\n\n- A search function.\n\n### Fixed" in (staged / "CHANGELOG.md").read_text()
    assert "Crash on empty input." in stub.requests[0].text  # it sees what is already there


def test_a_malformed_entry_escalates(staged: Path, stub: StubAPI) -> None:
    stub.script(Reply("Sure! Here is the entry:\n- Added search"), model="claude-haiku-5-5")
    stub.script(Reply("Added: Search."), model="claude-sonnet-5-5")
    assert cli.main(["changelog", "--entry"]) == 0
    assert "- Search." in (staged / "CHANGELOG.md").read_text()


def test_offline_entry_without_a_key(staged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["changelog", "--entry"]) == 0
    out, err = capsys.readouterr()
    assert out == "Added: Add search in search.\n"
    assert "no ANTHROPIC_API_KEY" in err


def test_entry_keeps_a_crlf_changelogs_line_endings(staged: Path) -> None:
    (staged / "CHANGELOG.md").write_bytes(EXISTING.replace("\n", "\r\n").encode())
    assert cli.main(["changelog", "--entry"]) == 0
    data = (staged / "CHANGELOG.md").read_bytes()
    assert b"- Add search in search.\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")  # only the new line was added, every line CRLF


def test_a_changelog_that_is_not_utf8_is_one_clear_line(
    staged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (staged / "CHANGELOG.md").write_bytes(b"# Changelog\n\xff\xfe\n")
    assert cli.main(["changelog", "--entry"]) == 2
    err = capsys.readouterr().err
    assert "CHANGELOG.md" in err and "UTF-8" in err and "internal error" not in err
    assert (staged / "CHANGELOG.md").read_bytes() == b"# Changelog\n\xff\xfe\n"
    assert cli.main(["changelog", "--release", "1.0.0"]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_no_entry_for_a_change_users_cannot_see(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "tests/test_x.py", "def test_x():\n    pass\n")
    git(repo, "add", ".")
    assert cli.main(["changelog", "--entry"]) == 0
    assert "not user-visible" in capsys.readouterr().err
    assert not (repo / "CHANGELOG.md").exists()


def test_hook_writes_the_entry_and_fails_so_the_user_reviews_it(staged: Path, stub: StubAPI) -> None:
    stub.script(Reply("Added: Search."))
    assert hook.main([]) == 1
    assert "- Search." in (staged / "CHANGELOG.md").read_text()
    git(staged, "add", "CHANGELOG.md")
    assert hook.main([]) == 0  # staged now: nothing more to do
    assert stub.calls == 1


def test_hook_never_blocks_on_its_own_failure(staged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (staged / ".codetier.toml").write_text("[hooks]\nchangelog = 3\n")
    assert hook.main([]) == 0
    assert (staged / "CHANGELOG.md").read_text() == EXISTING


def test_rendered_entry_prompt_matches_golden(staged: Path) -> None:
    import os

    from codetier import config, registry
    from codetier.chores import changelog as chore
    from codetier.chores.commit_message import gather
    from codetier.engine import Link

    cfg = config.load(staged)
    reg = registry.build(cfg)
    job = chore.entry_job(gather(staged), reg, "Fixed: Crash on empty input.")
    call = job.build(Link("fast", "anthropic", "claude-haiku-5-5"), ())
    text = f"{call.system}\n---\n{call.prompt}\n"
    path = Path(__file__).parent / "golden" / "changelog_entry_explicit.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, "utf-8")
    assert text == path.read_text("utf-8")
