"""Deterministic drafts for when no model can be reached (no key, an outage,
a spent budget). Handlers are registered per task type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from codetier import drafts
from codetier.providers.base import Call, Completion, ProviderError

HANDLERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "commit_message": drafts.offline,
    "changelog_entry": drafts.offline_changelog,
}


class OfflineProvider:
    name = "offline"

    def complete(self, call: Call) -> Completion:
        handler = HANDLERS.get(call.task)
        if handler is None:
            raise ProviderError("no_offline", f"no offline draft for task {call.task}", retryable=True)
        return Completion(text=handler(call.payload), stop_reason="end_turn")
