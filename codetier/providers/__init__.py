"""Providers, registered in an explicit dict. The anthropic SDK is imported
only when a model is actually called, so tool-tier commands stay fast."""

from __future__ import annotations

from collections.abc import Callable

from codetier.errors import NoKeyError
from codetier.providers import keys
from codetier.providers.base import Call, Completion, Provider, ProviderError


def _anthropic() -> Provider:
    if keys.credentials() is None:  # say so before paying a second to import the SDK
        raise NoKeyError("this task")
    from codetier.providers.anthropic import AnthropicProvider

    return AnthropicProvider()


def _tool() -> Provider:
    from codetier.providers.tool import ToolProvider

    return ToolProvider()


def _offline() -> Provider:
    from codetier.providers.offline import OfflineProvider

    return OfflineProvider()


PROVIDERS: dict[str, Callable[[], Provider]] = {
    "anthropic": _anthropic,
    "tool": _tool,
    "offline": _offline,
}


def get(name: str) -> Provider:
    return PROVIDERS[name]()


__all__ = ["PROVIDERS", "Call", "Completion", "Provider", "ProviderError", "get"]
