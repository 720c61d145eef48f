"""The audit's fast classifier and pricing against the router and pricing they stand in for."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "word"),
    [("latest tests", "test"), ("testing, test.", "test"), ("a test", "test"), ("test_x test", "test"),
     ("x_test", "test"), ("test2", "test"), ("étest", "test"), ("test é", "test"), ("", "test"),
     ("cross-module", "cross-module"), ("across-modules", "cross-module"), ("a  b", ""), ("ab", ""),
     ("the production db", "production"), ("preproduction", "production")],
)  # fmt: skip
def test_has_word_agrees_with_the_regex(text: str, word: str) -> None:
    import re

    from codetier.audit.classify import has_word

    assert has_word(text, word) == bool(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text))


@pytest.mark.parametrize(
    "text",
    [
        "reformat this file with ruff",
        "write a commit message",
        "release changelog and release notes",
        "changelog for release",
        "explain how the tests work",
        "design the architecture of the review tool",
        "debug the flaky test",
        "refactor across modules",
        "hello there",
        "Rename Foo to Bar and update the docstring",
        "write a commit message for the security fix",
        "explain the production migration",
        "delete the debug logging",
        "format the production config",
        "the latest_test build: run pytest-xdist, then tests",
        "no testing here, just a contest",
        "Cross-module refactor of the unit_tests",
        "résumé: explain the déploiement",
        "explain\u2014this",
    ],
)
def test_fast_classifier_agrees_with_the_router(text: str) -> None:
    from codetier import config, registry, router
    from codetier.audit.classify import Classifier

    reg = registry.build(config.load())
    task = router.pick_task(text, reg)[0]
    assert Classifier(reg).task(text) == task
    assert Classifier(reg).route(text) == (task, router.route(text, reg).tier)


@pytest.mark.parametrize("extra", [False, True], ids=["default rules", "odd triggers and risk words"])
def test_fast_classifier_agrees_with_the_router_on_mixed_text(extra: bool) -> None:
    """Triggers run together, split by punctuation (non-ASCII too), underscores, digits and
    letters that fold or lower-case oddly; with triggers the regex path must take (non-ASCII,
    no word in them, spaces at an end) and risk words that are not one plain word."""
    import random

    from codetier import config, registry, router
    from codetier.audit.classify import Classifier

    reg = registry.build(config.load())
    if extra:
        odd = ("\u017ftack", "naïve", "++", " test", "C++", "fix  bug")
        tasks = dict(reg.tasks)
        tasks["explain"] = tasks["explain"]._replace(triggers=tasks["explain"].triggers + odd)
        reg = reg._replace(tasks=tasks, risk_words=(*reg.risk_words, "Prod", "data loss", "naïve", "db!"))
    fast = Classifier(reg)
    assert bool(fast.other) == extra  # the regex path for triggers is exercised
    pieces = [t for task in reg.tasks.values() for t in task.triggers] + list(reg.risk_words)
    pieces += ["_", "-", " ", "  ", "\n", ".", "é", "x", "1", "Test", "REVIEW", "ǅ", "_test", "tests2",
               "\u2014", "\u3002", "\u00a0", "\u212a", "\u017f", "\u0130", "!"]  # fmt: skip
    rnd = random.Random(5)
    for _ in range(300):
        text = "".join(
            rnd.choice(pieces) + rnd.choice(["", " ", "_", "-", "é", "a", "\u2014"])
            for _ in range(rnd.randint(1, 9))
        )
        if not text.strip():
            continue  # not a prompt (the reader skips it), and the router refuses it
        assert fast.route(text) == (router.pick_task(text, reg)[0], router.route(text, reg).tier), text


def test_fast_classifier_routes_the_first_max_chars() -> None:
    from codetier import config, registry, router
    from codetier.audit.classify import MAX_CHARS, Classifier

    reg = registry.build(config.load())
    for text in [
        "x " * (MAX_CHARS // 2 - 2) + "explain the production migration",
        "é" + "x " * MAX_CHARS + "explain",
    ]:
        cut = text[:MAX_CHARS]
        assert Classifier(reg).route(text) == (router.pick_task(cut, reg)[0], router.route(cut, reg).tier)
        assert Classifier(reg).route(text) != (router.pick_task(text, reg)[0], router.route(text, reg).tier)


def test_classifier_constants_match_the_router() -> None:
    from codetier import router
    from codetier.audit import classify

    assert classify.AMBIGUOUS_TASK == router.AMBIGUOUS_TASK
    assert classify.MODEL_TIERS == router.MODEL_TIERS


@pytest.mark.parametrize(
    "tokens", [(0, 0, 0, 0, 0), (1_000, 200, 3_000, 1_000, 50_000), (90_000, 7, 20_000, 5, 1)]
)
def test_fast_cost_matches_pricing(tokens: tuple[int, int, int, int, int]) -> None:
    from codetier import config, pricing, registry
    from codetier.audit.prices import cost

    reg = registry.build(config.load())
    for price in reg.prices:  # long-prompt tiers included (Haiku 5.5 past 100k)
        assert cost(price, *tokens) == pricing.cost_micros(price, pricing.Usage(*tokens))
