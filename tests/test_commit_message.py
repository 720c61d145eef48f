"""The commit-message chore: style detection, the check, escalation, the offline draft."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import git
from hooks_support import write
from stub_api import Fault, Reply, StubAPI

from codetier import config, msgfile, registry
from codetier.chores import commit_message as cm
from codetier.diffs import FileDiff

HAIKU, SONNET = "claude-haiku-5-5", "claude-sonnet-5-5"


def ctx_for(paths: list[str], style: str = "plain") -> cm.CommitContext:
    files = tuple(FileDiff(p, None, "modified", "text", 1, 0, "+x\n") for p in paths)
    return cm.CommitContext(Path("."), files, "main", (), style)


@pytest.mark.parametrize(
    ("subjects", "style"),
    [
        ([], "plain"),
        (["feat: a", "fix(x): b", "Update c"], "conventional"),
        (["feat!: drop py2", "chore(deps): bump"], "conventional"),
        (["✨ Add login", "🐛 Fix crash", "Tidy"], "gitmoji"),
        ([":sparkles: add", ":bug: fix"], "gitmoji"),
        (["Add a thing", "Fix another", "feat: one"], "plain"),
    ],
)
def test_detects_the_repo_style_from_recent_subjects(subjects: list[str], style: str) -> None:
    assert cm.detect_style(subjects) == style


@pytest.mark.parametrize(
    ("text", "style", "reason"),
    [
        ("Add parser", "plain", None),
        ("Add parser\n\nBody line.", "plain", None),
        ("feat(parser): add parse_header", "conventional", None),
        ("Update src/parser.py and parser.py", "plain", None),
        ("", "plain", "empty"),
        ("x" * 73, "plain", "73 characters"),
        ("Add parser\nBody without blank", "plain", "no blank line"),
        ("Here is the commit message:\n\nAdd parser", "plain", "preamble"),
        ("Commit message: Add parser", "plain", "preamble"),
        ("```\nAdd parser\n```", "plain", "code fence"),
        ('"Add parser"', "plain", "quotes"),
        ("Add parser", "conventional", "Conventional Commits"),
        ("feature: add parser", "conventional", "Conventional Commits"),
        ("Update README.md", "plain", "README.md, which the diff does not touch"),
        ("# Add parser", "plain", "heading"),
    ],
)
def test_check_rejects_what_git_or_the_repo_would_not_take(text: str, style: str, reason: str | None) -> None:
    verdict = cm.check_message(text, ctx_for(["src/parser.py"], style))
    if reason is None:
        assert verdict.ok, verdict.reason
        assert verdict.value == text
    else:
        assert not verdict.ok
        assert reason in verdict.reason


def test_check_does_not_mistake_versions_or_abbreviations_for_files() -> None:
    verdict = cm.check_message("Bump to 1.2.3, e.g. for v2.0 users", ctx_for(["setup.cfg"]))
    assert verdict.ok, verdict.reason


def test_check_accepts_a_renamed_files_old_name() -> None:
    files = (FileDiff("new.py", "old.py", "renamed", "text", 0, 0, ""),)
    ctx = cm.CommitContext(Path("."), files, "main", (), "plain")
    assert cm.check_message("Rename old.py to new.py", ctx).ok


def staged_repo(repo: Path, conventional: bool = True) -> Path:
    write(repo, "README.md", "# demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "docs: start" if conventional else "Start")
    write(repo, "src/parser.py", "def parse_header(line):\n    return line\n")
    git(repo, "add", ".")
    return repo


def compose(repo: Path) -> cm.Composed:
    cfg = config.load(repo)
    return cm.compose(repo, cfg, registry.build(cfg), source="cli")


def ledger(isolated: Path) -> list[tuple[str, ...]]:
    db = sqlite3.connect(isolated / "codetier" / "ledger.db")
    return db.execute(
        "SELECT task, tier, provider, outcome, reason, redacted FROM attempts ORDER BY id"
    ).fetchall()


def test_the_fast_tier_writes_the_message_with_branch_and_subjects_in_the_prompt(
    repo: Path, stub: StubAPI, isolated: Path
) -> None:
    staged_repo(repo)
    stub.script(Reply("feat(parser): add parse_header"), model=HAIKU)
    done = compose(repo)
    assert done.message == "feat(parser): add parse_header"
    assert done.note == ""
    text = stub.texts_for(HAIKU)[0]
    assert "Branch: main" in text
    assert "- docs: start" in text
    assert "Conventional Commits" in text
    assert "+def parse_header(line):" in text
    assert ledger(isolated) == [("commit_message", "fast", "anthropic", "ok", None, 0)]


def test_a_failed_check_escalates_with_the_reason(repo: Path, stub: StubAPI, isolated: Path) -> None:
    staged_repo(repo)
    stub.script(Reply("Here is your commit message: add parser"), model=HAIKU)
    stub.script(Reply("feat(parser): add parse_header"), model=SONNET)
    done = compose(repo)
    assert done.message == "feat(parser): add parse_header"
    assert "preamble" in stub.texts_for(SONNET)[0]
    rows = ledger(isolated)
    assert [(r[1], r[3]) for r in rows] == [("fast", "check_failed"), ("balanced", "ok")]


def test_no_key_gives_the_offline_draft_recorded_as_tool_tier(repo: Path, isolated: Path) -> None:
    staged_repo(repo)
    done = compose(repo)
    assert done.message.splitlines()[0] == "feat(parser): add parse_header"
    assert done.offline
    assert "no ANTHROPIC_API_KEY" in done.note
    assert ledger(isolated) == [("commit_message", "tool", "offline", "ok", None, 0)]


def test_a_file_name_with_spaces_can_be_named(repo: Path) -> None:
    (repo / "my notes é.py").write_text("x = 1\n", "utf-8")
    (repo / "a+b.py").write_text("y = 2\n", "utf-8")
    git(repo, "add", ".")
    done = compose(repo)
    assert "my notes é.py" in done.message
    ctx = ctx_for(["my notes é.py", "a+b.py"])
    assert cm.check_message("Add my notes é.py and a+b.py", ctx).ok
    assert not cm.check_message("Add é.py and b.py", ctx_for(["café.py", "ab.py"])).ok


def test_provider_down_falls_back_to_the_offline_draft(
    repo: Path, stub: StubAPI, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged_repo(repo, conventional=False)
    stub.script(Fault(500), times=None)
    monkeypatch.setenv("CODETIER_ANTHROPIC__MAX_RETRIES", "0")
    done = compose(repo)
    assert done.message.splitlines()[0] == "Add parse_header"
    assert "offline draft (balanced: provider_error" in done.note
    assert [r[3] for r in ledger(isolated)] == ["provider_error", "provider_error", "ok"]


def test_a_spent_budget_falls_back_to_the_offline_draft(
    repo: Path, stub: StubAPI, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged_repo(repo)
    monkeypatch.setenv("CODETIER_BUDGET__DAILY_USD", "0")
    done = compose(repo)
    assert done.offline
    assert stub.calls == 0
    assert [r[3] for r in ledger(isolated)] == ["budget_refused", "budget_refused", "ok"]


def test_write_message_never_leaves_a_half_written_file(tmp_path: Path) -> None:
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text("\n# Please enter the commit message.\n")
    with pytest.raises(UnicodeEncodeError):
        msgfile.write_message(msg, "Add parser \ud800")  # a lone surrogate a JSON reply can carry
    assert msg.read_text() == "\n# Please enter the commit message.\n"
    assert [p.name for p in tmp_path.iterdir()] == ["COMMIT_EDITMSG"]


def test_write_message_keeps_gits_comment_lines(tmp_path: Path) -> None:
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text("\n# Please enter the commit message.\n# On branch main\n")
    assert not msgfile.has_message(msg)
    msgfile.write_message(msg, "Add parser\n\nBody.")
    assert msg.read_text() == "Add parser\n\nBody.\n\n# Please enter the commit message.\n# On branch main\n"
    assert msgfile.has_message(msg)


def test_has_message_ignores_the_verbose_diff_below_the_scissors(tmp_path: Path) -> None:
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(
        "\n# Please enter\n# ------------------------ >8 ------------------------\ndiff --git a/x b/x\n"
    )
    assert not msgfile.has_message(msg)
    assert msgfile.has_message(msg.with_name("missing")) is False


# --- what the model sees (golden) and the CLI ------------------------------

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    import os

    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, "utf-8")
    assert text == path.read_text("utf-8")


@pytest.mark.parametrize("tier", ["fast", "balanced"])
def test_rendered_prompt_per_variant_matches_golden(repo: Path, tier: str) -> None:
    staged_repo(repo)
    write(repo, "uv.lock", "version = 1\n")
    git(repo, "add", ".")
    cfg = config.load(repo)
    reg = registry.build(cfg)
    job = cm.job_for(cm.gather(repo), reg, 1_000)
    link = cm.route_for(reg).links[0]
    call = job.build(type(link)(tier, "anthropic", reg.tiers[tier].model), ("the subject was 80 characters",))
    golden(
        f"commit_message_{reg.task('commit_message').variant(tier)}.txt",
        f"{call.system}\n---\n{call.prompt}\n",
    )


def test_cli_prints_the_message(repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]) -> None:
    from codetier import cli

    staged_repo(repo)
    stub.script(Reply("feat(parser): add parse_header"))
    assert cli.main(["commit-msg"]) == 0
    assert capsys.readouterr() == ("feat(parser): add parse_header\n", "")


def test_cli_write_keeps_comment_lines_and_says_when_offline(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from codetier import cli

    staged_repo(repo)
    msg = repo / "MSG"
    msg.write_text("\n# comment\n")
    assert cli.main(["commit-msg", "--write", str(msg)]) == 0
    assert msg.read_text().startswith(
        "feat(parser): add parse_header\n\n- src/parser.py: added (+2 -0)\n\n# comment\n"
    )
    assert capsys.readouterr().err == "codetier: no ANTHROPIC_API_KEY: wrote an offline draft\n"


def test_cli_with_nothing_staged_is_one_clear_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codetier import cli

    assert cli.main(["commit-msg"]) == 1
    assert capsys.readouterr().err == "codetier: nothing staged: `git add` the change first\n"


def test_cli_outside_a_repo_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codetier import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["commit-msg"]) == 1
    assert "not a git repository" in capsys.readouterr().err
