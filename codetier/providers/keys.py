"""Whether a model can be reached, without importing the SDK (1 s+)."""

from __future__ import annotations

import os


def credentials() -> tuple[str, str | None] | None:
    """(key, base_url), or None when no model can be reached.

    A base URL without a key is a proxy that handles auth itself.
    """
    key = os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
    base = os.environ.get("ANTHROPIC_BASE_URL") or None
    if not key and not base:
        return None
    return key or "proxy-handles-auth", base


def model_reachable() -> bool:
    return credentials() is not None
