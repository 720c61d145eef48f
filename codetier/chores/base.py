"""What a chore is: it gathers context, builds a Job for the engine, owns the
check of the output, and turns a passed result into what the user sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from codetier.engine import Check, Job, Link, Result
from codetier.providers.base import Call, Completion
from codetier.registry import Registry, Task


@dataclass(frozen=True)
class Request:
    text: str
    root: Path
    files: tuple[Path, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


class Chore(NamedTuple):
    job: Callable[[Request, Registry], Job]
    finish: Callable[[Request, Result], str]


def with_failures(prompt: str, failures: Sequence[str]) -> str:
    """Escalation carries the reasons earlier attempts failed."""
    if not failures:
        return prompt
    notes = "\n".join(f"- {f}" for f in failures)
    return f"{prompt}\n\nEarlier attempts failed; avoid these problems:\n{notes}"


def builder(
    task: Task, systems: Mapping[str, str], base: str, payload: Mapping[str, Any] | None = None
) -> Callable[[Link, Sequence[str]], Call]:
    """The usual `build`: the system prompt of the tier's variant ("standard"
    when the task names none), the base prompt plus earlier failures."""

    def build(link: Link, failures: Sequence[str]) -> Call:
        system = systems.get(task.variant(link.tier), systems["standard"])
        prompt = with_failures(base, failures)
        return Call(task.name, link.model, system, prompt, task.max_tokens, payload=payload or {})

    return build


def not_truncated(c: Completion) -> Check:
    """The minimal check every free-text answer passes: present and complete."""
    if not c.text.strip():
        return Check(False, "the answer was empty")
    if c.stop_reason == "max_tokens":
        return Check(False, "the answer was cut off at max_tokens")
    return Check(True, value=c.text)


def text_of(result: Result) -> str:
    return result.completion.text.strip()
