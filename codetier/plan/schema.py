"""The plan the deep model returns, and its check.

A plan is JSON: {"goal", "subtasks": [{"id", "instruction", "files",
"depends_on", "task", "tier", "expected"}], "risks"}. A file entry is a path
that exists, or {"path": ..., "new": true} for a file the subtask creates.
The check collects every problem (so one repair attempt can fix them all):
a valid DAG (a cycle is named), files exist or are marked new, tiers and
tasks known, and two subtasks that edit the same file must be ordered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codetier.registry import Registry

# Subtasks produce diffs, so they need a model; the tool tier has no diff writer.
SUBTASK_TIERS = ("fast", "balanced", "deep")
_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,39}$")


@dataclass(frozen=True)
class Subtask:
    id: str
    instruction: str
    files: tuple[str, ...]
    new_files: frozenset[str]
    depends_on: tuple[str, ...]
    task: str
    tier: str
    expected: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instruction": self.instruction,
            "files": [{"path": f, "new": True} if f in self.new_files else f for f in self.files],
            "depends_on": list(self.depends_on),
            "task": self.task,
            "tier": self.tier,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class Plan:
    goal: str
    subtasks: tuple[Subtask, ...]
    risks: tuple[str, ...]

    def get(self, sid: str) -> Subtask:
        return next(s for s in self.subtasks if s.id == sid)

    def as_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "subtasks": [s.as_dict() for s in self.subtasks],
            "risks": list(self.risks),
        }


class PlanInvalid(ValueError):
    """Every problem found in a plan, one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def extract_json(text: str) -> Any:
    """The JSON object in a reply: bare, or in a ``` fence, or the outermost braces."""
    fenced = re.search(r"```(?:json)?\s*\n(.*?)\n```", text, re.S)
    candidates = [fenced.group(1)] if fenced else []
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise PlanInvalid(["the reply is not a JSON object"])


def normal_path(raw: str) -> str | None:
    """A repo-relative POSIX path, or None when it escapes the repo."""
    p = PurePosixPath(raw.strip().replace("\\", "/").removeprefix("./"))
    if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] == ".git":
        return None
    return str(p)


def parse(text: str, reg: Registry, root: Path, *, max_subtasks: int = 12) -> Plan:
    """Parse and check a plan; raise PlanInvalid listing every problem."""
    data = extract_json(text)
    if not isinstance(data, Mapping):
        raise PlanInvalid(["the plan must be a JSON object"])
    problems: list[str] = []
    goal = data.get("goal")
    if not isinstance(goal, str) or not goal.strip():
        problems.append("goal: expected a non-empty string")
        goal = ""
    risks = data.get("risks", [])
    if not isinstance(risks, list) or not all(isinstance(r, str) for r in risks):
        problems.append("risks: expected a list of strings")
        risks = []
    raw = data.get("subtasks")
    if not isinstance(raw, list) or not raw:
        raise PlanInvalid([*problems, "subtasks: expected a non-empty list"])
    if len(raw) > max_subtasks:
        problems.append(f"subtasks: {len(raw)} subtasks, at most {max_subtasks} allowed (plan.max_subtasks)")
    subtasks = [_subtask(i, item, reg, root, problems) for i, item in enumerate(raw)]
    ids = [s.id for s in subtasks]
    for sid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"subtask id {sid!r} is used more than once")
    known = set(ids)
    for s in subtasks:
        for dep in s.depends_on:
            if dep not in known:
                problems.append(f"subtask {s.id}: depends_on names unknown subtask {dep!r}")
            elif dep == s.id:
                problems.append(f"subtask {s.id}: depends on itself")
    cycle = find_cycle({s.id: [d for d in s.depends_on if d in known] for s in subtasks})
    if cycle:
        problems.append("dependency cycle: " + " → ".join(cycle))
    elif not problems:
        problems += _missing(subtasks, root) + _unordered_overlaps(subtasks)
    if problems:
        raise PlanInvalid(problems)
    return Plan(goal.strip(), tuple(subtasks), tuple(risks))


def _subtask(i: int, item: Any, reg: Registry, root: Path, problems: list[str]) -> Subtask:
    if not isinstance(item, Mapping):
        problems.append(f"subtasks[{i}]: expected an object")
        return Subtask(f"#{i}", "", (), frozenset(), (), "implement", "balanced", "")
    sid = item.get("id")
    if not isinstance(sid, str) or not _ID.match(sid):
        problems.append(f"subtasks[{i}].id: expected a short name of letters, digits, - _ or ., got {sid!r}")
        sid = f"#{i}"
    where = f"subtask {sid}"
    instruction = item.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        problems.append(f"{where}: instruction: expected a non-empty string")
        instruction = ""
    task = item.get("task", "implement")
    writers = sorted(n for n, t in reg.tasks.items() if t.tier != "tool" and t.max_tokens > 0)
    if not isinstance(task, str) or task not in writers:
        problems.append(
            f"{where}: task: expected a task type that writes code ({', '.join(writers)}), got {task!r}"
        )
        task = "implement"
    tier = item.get("tier", reg.tasks[task].tier)
    allowed = [t for t in SUBTASK_TIERS if t in reg.tiers]
    if tier not in allowed:
        problems.append(f"{where}: tier: expected one of {', '.join(allowed)}, got {tier!r}")
        tier = "balanced"
    expected = item.get("expected", "")
    if not isinstance(expected, str):
        problems.append(f"{where}: expected: expected a string")
        expected = ""
    deps = item.get("depends_on", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        problems.append(f"{where}: depends_on: expected a list of subtask ids")
        deps = []
    files, new = _files(where, item.get("files"), root, problems)
    return Subtask(sid, instruction.strip(), files, new, tuple(dict.fromkeys(deps)), task, tier, expected)


def _files(where: str, raw: Any, root: Path, problems: list[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: files: expected a non-empty list")
        return (), frozenset()
    files: list[str] = []
    new: set[str] = set()
    for entry in raw:
        marked = isinstance(entry, Mapping) and entry.get("new") is True
        name = entry.get("path") if isinstance(entry, Mapping) else entry
        path = normal_path(name) if isinstance(name, str) else None
        if path is None:
            problems.append(f"{where}: files: {name!r} is not a path inside the repository")
            continue
        exists = (root / path).is_file()
        if marked and exists:
            problems.append(f"{where}: files: {path} is marked new but already exists")
        if marked:
            new.add(path)
        files.append(path)
    return tuple(dict.fromkeys(files)), frozenset(new)


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a] following depends_on edges, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def levels(plan: Plan) -> list[list[Subtask]]:
    """Subtasks grouped by dependency depth: each level needs only earlier ones."""
    depth: dict[str, int] = {}

    def of(s: Subtask) -> int:
        if s.id not in depth:
            depth[s.id] = 1 + max((of(plan.get(d)) for d in s.depends_on), default=-1)
        return depth[s.id]

    out: list[list[Subtask]] = []
    for s in plan.subtasks:
        d = of(s)
        while len(out) <= d:
            out.append([])
        out[d].append(s)
    return out


def ancestors(plan: Plan, sid: str) -> set[str]:
    seen: set[str] = set()
    todo = list(plan.get(sid).depends_on)
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(plan.get(d).depends_on)
    return seen


def _missing(subtasks: Sequence[Subtask], root: Path) -> list[str]:
    """A file that does not exist must be marked new here or by an earlier subtask."""
    plan = Plan("", tuple(subtasks), ())
    problems = []
    for s in subtasks:
        for path in s.files:
            if path in s.new_files or (root / path).is_file():
                continue
            if not any(path in plan.get(a).new_files for a in ancestors(plan, s.id)):
                mark = f'{{"path": "{path}", "new": true}}'
                problems.append(f"subtask {s.id}: files: {path} does not exist (mark it {mark})")
    creators: dict[str, list[str]] = {}
    for s in subtasks:
        for path in s.new_files:
            creators.setdefault(path, []).append(s.id)
    for path, ids in sorted(creators.items()):
        if len(ids) > 1:
            problems.append(f"{path} is marked new by more than one subtask ({', '.join(ids)})")
    return problems


def _unordered_overlaps(subtasks: Sequence[Subtask]) -> list[str]:
    """Two subtasks that edit one file must be ordered, or their diffs collide."""
    plan = Plan("", tuple(subtasks), ())
    problems = []
    for i, a in enumerate(subtasks):
        for b in subtasks[i + 1 :]:
            shared = sorted(set(a.files) & set(b.files))
            if shared and a.id not in ancestors(plan, b.id) and b.id not in ancestors(plan, a.id):
                problems.append(
                    f"subtasks {a.id} and {b.id} both edit {', '.join(shared)}:"
                    " make one depend on the other, or merge them"
                )
    return problems
