"""The planner's context (repo map), the subtask handoff and its compression,
and the [plan] config section."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import git
from plan_support import REQUEST, STORAGE, make_project

from codetier import config, registry, tokens
from codetier.errors import ConfigError
from codetier.plan import handoff, repomap, schema, settings
from codetier.plan.execute import chain_for
from codetier.plan.handoff import DepResult, Handoff


def test_repo_map_lists_definitions_and_imports_relevant_first(repo: Path) -> None:
    make_project(repo, verify=False)
    (repo / "README.txt").write_text("hi\n")
    (repo / "ignored.log").write_text("x\n")
    (repo / ".gitignore").write_text("*.log\n")

    rmap = repomap.build(repo, "rename save in shop/storage.py", budget=10_000)

    first = rmap.text.splitlines()[0]
    assert first == "shop/storage.py *"
    assert "  def save(db, key, value)" in rmap.text
    assert "  imports: shop.storage" in rmap.text  # shop/service.py
    assert "README.txt" in rmap.text and "ignored.log" not in rmap.text
    assert "shop/storage.py" in rmap.relevant
    # service.py imports the named module: one hop, so relevant; report.py imports service only
    assert "shop/service.py" in rmap.relevant
    assert "shop/report.py" not in rmap.relevant


def test_repo_map_is_trimmed_to_its_budget(repo: Path) -> None:
    for i in range(200):
        (repo / f"m{i:03}.py").write_text(f"def function_number_{i}(a, b, c):\n    return a\n")
    git(repo, "add", "-A")

    text = repomap.build(repo, "anything", budget=300).text

    assert tokens.estimate(text) <= 300
    assert "def function_number_0(a, b, c)" in text  # detail while it fits
    assert "more files" in text.splitlines()[-1]


def test_repo_map_notes_a_file_that_does_not_parse(repo: Path) -> None:
    (repo / "bad.py").write_text("def (:\n")
    assert "bad.py\n  (does not parse: line 1)" in repomap.build(repo, "x").text


def _handoff(files: dict[str, str | None], dep_diff: str = "") -> Handoff:
    s1 = schema.Subtask("s1", "first", ("a.py",), frozenset(), (), "implement", "fast", "")
    s2 = schema.Subtask("s2", "second " * 50, ("b.py",), frozenset(), ("s1",), "implement", "fast", "ok")
    plan = schema.Plan("the goal", (s1, s2), ("risk",))
    return Handoff(REQUEST, plan, s2, (DepResult("s1", "did it", ("a.py",), dep_diff),), files)


def test_handoff_is_structured_and_full_when_it_fits() -> None:
    ho = _handoff({"b.py": STORAGE}, dep_diff="--- a/a.py\n+++ b/a.py\n")
    prompt = handoff.fit(ho, 1_000_000)
    assert prompt is not None
    assert prompt.startswith("You are executing subtask 's2' of a plan.")
    assert '"goal": "the goal"' in prompt and '"risks"' in prompt
    assert "Diff of dependency s1:" in prompt
    assert f"File b.py:\n```\n{STORAGE}```" in prompt


def test_handoff_is_compressed_to_seventy_percent_of_the_window() -> None:
    ho = _handoff({"b.py": STORAGE}, dep_diff="+x\n" * 2000)
    full = tokens.estimate(handoff.SYSTEM, ho.render(0))
    window = int(full / 0.7) - 10  # the full handoff is just over 70% of this window

    prompt = handoff.fit(ho, window)

    assert prompt is not None
    assert tokens.estimate(handoff.SYSTEM, prompt) <= 0.7 * window
    assert "Diff of dependency s1:" not in prompt and '"summary": "did it"' in prompt
    assert STORAGE in prompt  # the files it edits are never cut


def test_handoff_that_cannot_fit_is_refused() -> None:
    assert handoff.fit(_handoff({"b.py": "x = 1\n" * 5000}), 10_000) is None


def test_escalation_chain_climbs_from_the_subtask_tier() -> None:
    reg = registry.build(config.load(environ={}))
    s = schema.Subtask("s", "i", ("a.py",), frozenset(), (), "implement", "fast", "")
    assert chain_for(s, reg) == ("fast", "balanced", "deep")
    assert chain_for(dataclasses.replace(s, tier="balanced"), reg) == ("balanced", "deep")
    assert chain_for(dataclasses.replace(s, tier="deep"), reg) == ("deep",)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CODETIER_PLAN__PARALLEL": "0"}, "plan.parallel: expected a whole number from 1 to 32, got 0"),
        ({"CODETIER_PLAN__PARALLEL": '"many"'}, "plan.parallel: expected a number, got 'many'"),
        ({"CODETIER_PLAN__VERIFY_COMMAND": "3"}, "plan.verify_command: expected a string, got 3"),
    ],
)
def test_bad_plan_settings_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        settings.read(config.load(environ=env))
    assert str(info.value).startswith("environment (CODETIER_PLAN__")


def test_plan_settings_defaults() -> None:
    opts = settings.read(config.load(environ={}))
    assert (opts.parallel, opts.verify_command) == (4, "")


def test_golden_plan_and_handoff_prompts(repo: Path) -> None:
    """What the models see: the planner's prompt and a subtask's handoff."""
    from plan_support import HAPPY_PLAN, NEW_STORAGE, golden, udiff

    from codetier.engine import Link
    from codetier.plan import planner

    make_project(repo, verify=False)
    reg = registry.build(config.load(repo, environ={}))
    opts = settings.read(config.load(repo, environ={}))
    call = planner.job(REQUEST, repo, reg, "cross_file_refactor", ["shop/storage.py"], opts).build(
        Link("deep", "anthropic", "claude-opus-5-5"), ()
    )
    golden("plan_prompt.txt", f"{call.system}\n--- prompt ---\n{call.prompt}\n")
    plan = schema.parse(HAPPY_PLAN, reg, repo)
    dep = DepResult(
        "storage", "renamed", ("shop/storage.py",), udiff("shop/storage.py", STORAGE, NEW_STORAGE)
    )
    ho = Handoff(REQUEST, plan, plan.get("service"), (dep,), {"shop/service.py": "x = 1\n"})
    golden("plan_handoff.txt", f"{handoff.SYSTEM}\n--- prompt ---\n{handoff.fit(ho, 1_000_000)}\n")
