"""What a chore is: it gathers context, builds a Job for the engine, owns the
check of the output, and turns a passed result into what the user sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from codetier.engine import Check, Job, Result
from codetier.providers.base import Completion
from codetier.registry import Registry


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


def not_truncated(c: Completion) -> Check:
    """The minimal check every free-text answer passes: present and complete."""
    if not c.text.strip():
        return Check(False, "the answer was empty")
    if c.stop_reason == "max_tokens":
        return Check(False, "the answer was cut off at max_tokens")
    return Check(True, value=c.text)


def text_of(result: Result) -> str:
    return result.completion.text.strip()
