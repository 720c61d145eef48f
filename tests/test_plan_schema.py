"""The plan check: schema, DAG, files, tiers; levels of a valid plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plan_support import subtask

from codetier import config, registry
from codetier.plan import schema
from codetier.plan.schema import PlanInvalid


@pytest.fixture
def reg() -> registry.Registry:
    return registry.build(config.load(environ={}))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text("x = 1\n")
    return tmp_path


def plan(*subtasks: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"goal": "g", "subtasks": list(subtasks), "risks": [], **extra})


def problems(text: str, reg: registry.Registry, root: Path) -> list[str]:
    with pytest.raises(PlanInvalid) as info:
        schema.parse(text, reg, root)
    return info.value.problems


def test_valid_plan_parses_into_levels(reg: registry.Registry, root: Path) -> None:
    text = plan(
        subtask("s1", ["a.py"], []),
        subtask("s2", ["b.py", {"path": "pkg/new.py", "new": True}], []),
        subtask("s3", ["a.py", "pkg/new.py"], ["s1", "s2"]),
    )
    p = schema.parse(f"Here is the plan:\n```json\n{text}\n```", reg, root)
    assert [[s.id for s in level] for level in schema.levels(p)] == [["s1", "s2"], ["s3"]]
    assert p.get("s2").new_files == {"pkg/new.py"}


@pytest.mark.parametrize(
    ("subtasks", "expected"),
    [
        (
            [subtask("a", ["a.py"], ["b"]), subtask("b", ["b.py"], ["a"])],
            "dependency cycle: a → b → a",
        ),
        ([subtask("a", ["a.py"], ["a"])], "subtask a: depends on itself"),
        ([subtask("a", ["a.py"], ["zz"])], "subtask a: depends_on names unknown subtask 'zz'"),
        ([subtask("a", ["nope.py"], [])], "subtask a: files: nope.py does not exist"),
        ([subtask("a", [{"path": "a.py", "new": True}], [])], "a.py is marked new but already exists"),
        ([subtask("a", ["../etc/passwd"], [])], "'../etc/passwd' is not a path inside the repository"),
        ([subtask("a", ["a.py"], [], tier="cheap")], "subtask a: tier: expected one of fast, balanced, deep"),
        ([subtask("a", ["a.py"], [], tier="tool")], "subtask a: tier: expected one of fast, balanced, deep"),
        (
            [{**subtask("a", ["a.py"], []), "task": "magic"}],
            "subtask a: task: expected a task type that writes code",
        ),
        ([subtask("a", ["a.py"], []), subtask("a", ["b.py"], [])], "subtask id 'a' is used more than once"),
        (
            [subtask("a", ["a.py"], []), subtask("b", ["a.py", "b.py"], [])],
            "subtasks a and b both edit a.py: make one depend on the other",
        ),
        ([subtask("a", [], [])], "subtask a: files: expected a non-empty list"),
        ([{**subtask("a", ["a.py"], []), "task": "format_fix"}], "got 'format_fix'"),
    ],
)
def test_invalid_plans_name_the_problem(
    subtasks: list[dict[str, Any]], expected: str, reg: registry.Registry, root: Path
) -> None:
    found = problems(plan(*subtasks), reg, root)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once(reg: registry.Registry, root: Path) -> None:
    found = problems(plan(subtask("a", ["a.py"], [], tier="x"), goal=""), reg, root)
    assert len(found) == 2


def test_reply_without_json_is_invalid(reg: registry.Registry, root: Path) -> None:
    assert problems("I would refactor it carefully.", reg, root) == ["the reply is not a JSON object"]


def test_a_file_created_by_an_ancestor_may_be_edited_later(reg: registry.Registry, root: Path) -> None:
    ok = plan(subtask("a", [{"path": "n.py", "new": True}], []), subtask("b", ["n.py"], ["a"]))
    schema.parse(ok, reg, root)
    unordered = plan(subtask("a", [{"path": "n.py", "new": True}], []), subtask("b", ["n.py"], []))
    assert any("n.py does not exist" in p for p in problems(unordered, reg, root))


def test_too_many_subtasks(reg: registry.Registry, root: Path) -> None:
    many = [subtask(f"s{i}", ["a.py"], [f"s{i - 1}"] if i else []) for i in range(4)]
    with pytest.raises(PlanInvalid, match="at most 3 allowed"):
        schema.parse(plan(*many), reg, root, max_subtasks=3)


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": ["b"], "b": ["c"], "c": []}, None),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, ["a", "b", "c", "a"]),
        ({"x": [], "a": ["b"], "b": ["b"]}, ["b", "b"]),
    ],
)
def test_find_cycle(graph: dict[str, list[str]], cycle: list[str] | None) -> None:
    assert schema.find_cycle(graph) == cycle
