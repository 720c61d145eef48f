"""The engine's own guarantees, through the real SDK against the stub."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from stub_api import StubAPI

from codetier import config, engine, registry
from codetier.engine import Check, Job, Link, Route
from codetier.providers.base import Call, Completion


def _job(task: str) -> Job:
    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call(task, link.model, "system", "prompt", 100)  # no effort: the engine decides

    return Job(task, build, lambda c: Check(bool(c.text), value=c.text))


@pytest.mark.parametrize(
    ("task", "model", "effort"),
    [
        ("docstring", "claude-haiku-5-5", "low"),
        ("code_review", "claude-sonnet-5-5", "medium"),
        ("architecture", "claude-opus-5-5", "high"),
        ("docstring", "claude-haiku-4-5", None),  # a model that takes no effort never gets one
    ],
)
def test_effort_comes_from_the_task_when_the_model_takes_it(
    stub: StubAPI, repo: Path, task: str, model: str, effort: str | None
) -> None:
    reg = registry.build(config.load(repo))
    route = Route(task, "fast", (Link("fast", "anthropic", model),))
    engine.run(_job(task), route, reg)
    body = stub.requests[0].body
    assert body.get("output_config") == ({"effort": effort} if effort else None)
    assert not {"temperature", "top_p", "top_k"} & set(body)


def test_a_custom_provider_registry_is_used(repo: Path) -> None:
    class Echo:
        name = "echo"

        def complete(self, call: Call) -> Completion:
            return Completion(text=call.prompt.upper())

    reg = registry.build(config.load(repo))
    route = Route("explain", "tool", (Link("tool", "echo", None),))
    result = engine.run(_job("explain"), route, reg, registry_of_providers={"echo": Echo})
    assert result.value == "PROMPT"


def test_a_reply_naming_an_unpriced_model_version_is_still_recorded(repo: Path) -> None:
    """The API may answer with a dated model id: the call was billed, so its row must be written
    (priced as the model that was asked for), never lost to a 'no price' error."""
    from codetier import ledger
    from codetier.pricing import Usage

    class Dated:
        name = "dated"

        def complete(self, call: Call) -> Completion:
            return Completion(text="ok", usage=Usage(input=1000, output=100), model=call.model + "-20261101")

    reg = registry.build(config.load(repo))
    route = Route("docstring", "fast", (Link("fast", "dated", "claude-haiku-5-5"),))
    result = engine.run(_job("docstring"), route, reg, registry_of_providers={"dated": Dated})
    assert result.cost_micros == 1000 * 0.10 + 100 * 0.50
    db = ledger.connect()
    (model, cost) = db.execute("select model, cost_micros from attempts").fetchone()
    assert model == "claude-haiku-5-5-20261101" and cost == 150
