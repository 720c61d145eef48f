"""What every provider takes and returns. Providers know nothing of the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from codetier.pricing import Usage


@dataclass(frozen=True)
class Call:
    """One attempt's input. `payload` carries structured input for the tool
    and offline providers (paths, a diff, a symbol); models read the prompt."""

    task: str
    model: str | None
    system: str
    prompt: str
    max_tokens: int
    effort: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 120.0
    max_retries: int = 2


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    stop_reason: str | None = None
    request_id: str | None = None


class ProviderError(Exception):
    """A provider failed after its own retries. `kind` is a short table key."""

    def __init__(self, kind: str, message: str, *, retryable: bool, status: int | None = None) -> None:
        self.kind, self.retryable, self.status = kind, retryable, status
        super().__init__(message)


class Provider(Protocol):
    name: str

    def complete(self, call: Call) -> Completion: ...
