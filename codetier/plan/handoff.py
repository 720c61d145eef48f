"""The structured handoff a subtask receives: the goal, the plan, the results
of its dependencies and the files it may touch, compressed step by step until
it fits in 70% of the model's window."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codetier import tokens
from codetier.plan.schema import Plan, Subtask

WINDOW_SHARE = 0.7

SYSTEM = """You carry out one subtask of a larger, planned change. Other subtasks run in
parallel on other files; respect the interfaces the plan and the dependency results give.
Reply with one line saying what you changed, then ONE ```diff fenced block holding a
unified diff of your edits:
- headers `--- a/<path>` and `+++ b/<path>`; for a new file `--- /dev/null`;
- hunks `@@ -l,n +l,n @@` whose context and removed lines match the given content exactly;
- only the files listed under "Files you may edit"; keep every edited Python file valid."""


@dataclass(frozen=True)
class DepResult:
    """What a finished subtask hands on: its summary, the files it changed, its diff."""

    id: str
    summary: str
    files: tuple[str, ...]
    diff: str


@dataclass(frozen=True)
class Handoff:
    request: str
    plan: Plan
    subtask: Subtask
    deps: tuple[DepResult, ...]
    files: Mapping[str, str | None]  # the current content; None for a file to create

    def render(self, level: int = 0) -> str:
        """The prompt at a compression level: 0 full; 1 without dependency
        diffs; 2 also the other subtasks as ids and files only; 3 the bare minimum."""
        data: dict[str, Any] = {"goal": self.plan.goal, "request": self.request}
        if level < 3:
            data["plan"] = [_brief(s, full=level < 2 or s.id == self.subtask.id) for s in self.plan.subtasks]
        if level < 2:
            data["risks"] = list(self.plan.risks)
        data["subtask"] = {
            "id": self.subtask.id,
            "instruction": self.subtask.instruction,
            "files": list(self.subtask.files),
            "expected": self.subtask.expected,
        }
        data["dependencies"] = [
            {"id": d.id, "summary": d.summary, "files_changed": list(d.files)} for d in self.deps
        ]
        parts = [
            f"You are executing subtask {self.subtask.id!r} of a plan.",
            "Handoff:\n```json\n" + json.dumps(data, indent=1) + "\n```",
        ]
        if level == 0:
            parts += [f"Diff of dependency {d.id}:\n```diff\n{d.diff}```" for d in self.deps if d.diff]
        parts.append("Files you may edit (current content):")
        for path, body in self.files.items():
            if body is None:
                parts.append(f"File {path}: does not exist yet; create it.")
            else:
                shown = body if body.endswith("\n") or not body else body + "\n"
                parts.append(f"File {path}:\n```\n{shown}```")
        parts.append(f"Return the diff for subtask {self.subtask.id!r}.")
        return "\n\n".join(parts)


def _brief(s: Subtask, *, full: bool) -> dict[str, Any]:
    if not full:
        return {"id": s.id, "files": list(s.files)}
    return {
        "id": s.id,
        "instruction": s.instruction,
        "files": list(s.files),
        "depends_on": list(s.depends_on),
    }


def budget(window: int) -> int:
    return int(window * WINDOW_SHARE)


def fit(handoff: Handoff, window: int, extra: Sequence[str] = ()) -> str | None:
    """The least-compressed rendering whose tokens (with the system prompt and
    `extra` text such as failure notes) fit in 70% of `window`, or None."""
    limit = budget(window)
    for level in range(4):
        prompt = handoff.render(level)
        if tokens.estimate(SYSTEM, prompt, *extra) <= limit:
            return prompt
    return None
