from __future__ import annotations

from pathlib import Path

import pytest

from codetier import config, registry, router
from codetier.errors import CodetierError, UsageError


def reg_for(tmp_path: Path, toml: str = "") -> registry.Registry:
    (tmp_path / ".codetier.toml").write_text(toml)
    return registry.build(config.load(tmp_path, environ={}))


@pytest.fixture
def reg(tmp_path: Path) -> registry.Registry:
    return reg_for(tmp_path)


@pytest.mark.parametrize(
    ("text", "task", "tier"),
    [
        ("format src/app.py", "format_fix", "tool"),
        ("rename parse_args to parse_cli", "rename", "tool"),
        ("write a commit message for the staged changes", "commit_message", "fast"),
        ("update the changelog", "changelog_entry", "fast"),
        ("add a docstring to load_config", "docstring", "fast"),
        ("write tests for the ledger module", "test_writing", "balanced"),
        ("review my staged changes", "code_review", "balanced"),
        ("explain how the router works", "explain", "balanced"),
        ("refactor the auth flow across modules", "cross_file_refactor", "deep"),
        ("design a plugin architecture for providers", "architecture", "deep"),
        ("debug this race condition between the daemon and the hook", "debug", "deep"),
    ],
)
def test_default_registry_routes(reg: registry.Registry, text: str, task: str, tier: str) -> None:
    r = router.route(text, reg)
    assert (r.task, r.tier) == (task, tier)
    assert any(task in reason for reason in r.reasons)


def test_ambiguous_text_goes_to_balanced_and_says_so(reg: registry.Registry) -> None:
    r = router.route("make it nicer", reg)
    assert r.tier == "balanced"
    assert "ambiguous" in r.reasons[0]


def test_tied_triggers_are_ambiguous(tmp_path: Path) -> None:
    reg = reg_for(tmp_path, '[tasks.explain]\ntriggers = ["zap"]\n[tasks.code_review]\ntriggers = ["zap"]\n')
    r = router.route("zap it", reg)
    assert r.tier == "balanced"
    assert "tie" in r.reasons[0]


@pytest.mark.parametrize("word", ["security", "migration", "production", "delete", "irreversible"])
def test_risk_words_lift_one_tier(reg: registry.Registry, word: str) -> None:
    r = router.route(f"write a commit message for the {word} change", reg)
    assert r.tier == "balanced"
    assert any(word in reason and "lifted to balanced" in reason for reason in r.reasons)


def test_risk_word_on_deep_task_stays_deep(reg: registry.Registry) -> None:
    r = router.route("debug the production deadlock", reg)
    assert r.tier == "deep"
    assert any("already deep" in reason for reason in r.reasons)


def test_risk_words_leave_tool_tasks_deterministic(reg: registry.Registry) -> None:
    assert router.route("format the production config", reg).tier == "tool"


def test_files_across_many_modules_lift(reg: registry.Registry, tmp_path: Path) -> None:
    files = []
    for d in ("a", "b", "c"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text("x = 1\n")
        files.append(tmp_path / d / "m.py")
    r = router.route("write tests for these", reg, files=files)
    assert r.tier == "deep"
    assert any("span 3 modules" in reason for reason in r.reasons)


def test_context_past_window_picks_larger_link(tmp_path: Path) -> None:
    reg = reg_for(tmp_path, "[models.claude-sonnet-5-5]\nwindow = 1000\nmax_output = 100\neffort = true\n")
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 1000)
    r = router.route("explain this", reg, files=[big])
    assert r.links[0].model == "claude-opus-5-5"
    assert any("window 1,000" in reason and "skipped" in reason for reason in r.reasons)


def test_context_past_every_window_is_refused_with_numbers(tmp_path: Path) -> None:
    toml = "".join(
        f"[models.{m}]\nwindow = 1000\nmax_output = 100\neffort = true\n"
        for m in ("claude-sonnet-5-5", "claude-opus-5-5")
    )
    reg = reg_for(tmp_path, toml)
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 1000)
    with pytest.raises(CodetierError, match=r"refused: context ~1,879 tokens \+ 4,000 output.*1,000"):
        router.route("explain this", reg, files=[big])


def test_tier_flag_starts_the_chain_there(reg: registry.Registry) -> None:
    r = router.route("explain how the router works", reg, tier="deep")
    assert [link.tier for link in r.links] == ["deep"]


def test_model_flag_uses_exactly_that_model(reg: registry.Registry) -> None:
    r = router.route("explain it", reg, model="claude-haiku-5-5")
    assert [link.model for link in r.links] == ["claude-haiku-5-5"]
    assert r.tier == "fast"


def test_model_flag_with_unpriced_model_is_an_error(reg: registry.Registry) -> None:
    with pytest.raises(CodetierError, match="no price"):
        router.route("explain it", reg, model="claude-nonexistent")


def test_retiering_is_one_line(tmp_path: Path) -> None:
    reg = reg_for(tmp_path, '[tasks.commit_message]\ntier = "balanced"\n')
    r = router.route("write a commit message", reg)
    assert [link.tier for link in r.links] == ["balanced", "tool"]
    assert r.links[-1].provider == "offline"


def test_triggers_match_on_word_boundaries(reg: registry.Registry) -> None:
    # "latest" contains "test" but is not a request for tests
    assert router.route("show the latest thing", reg).task != "test_writing"


def test_tier_flag_below_the_task_still_escalates_through_its_tiers(reg: registry.Registry) -> None:
    r = router.route("explain how the router works", reg, tier="fast")
    assert [link.tier for link in r.links] == ["fast", "balanced", "deep"]


def test_empty_request_is_a_usage_error(reg: registry.Registry) -> None:
    with pytest.raises(UsageError, match="say what you want done"):
        router.route("   ", reg)


def test_a_binary_file_is_refused(reg: registry.Registry, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    with pytest.raises(UsageError, match=r"blob\.bin is a binary file"):
        router.route("explain this", reg, files=[blob])
