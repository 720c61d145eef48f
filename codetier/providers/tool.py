"""The deterministic tier: ruff, rope and git, at $0.

Handlers are registered per task type and return their result as JSON text,
so the engine checks and records them like any other completion.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codetier import release
from codetier.errors import CodetierError
from codetier.providers.base import Call, Completion, ProviderError
from codetier.tools import buffer, rope, ruff


def format_fix(payload: Mapping[str, Any]) -> str:
    root = Path(payload["root"])
    paths = list(payload["paths"])
    formatted = ruff.format_files(paths, root)
    if not payload.get("fix", True):
        return json.dumps({"formatted": formatted, "fixed": [], "remaining": []})
    fixed = ruff.fix_files(paths, root)
    if fixed:  # a fix can leave lines ruff format would wrap differently
        formatted = sorted(set(formatted) | set(ruff.format_files(fixed, root)))
    remaining = [str(f) for f in ruff.findings(paths, root)]
    return json.dumps({"formatted": formatted, "fixed": fixed, "remaining": remaining})


def rename(payload: Mapping[str, Any]) -> str:
    root = Path(payload["root"])
    files = [root / f for f in payload.get("files", [])] or None
    result = rope.rename_symbol(root, payload["old"], payload["new"], files)
    return json.dumps(
        {"old": result.old, "new": result.new, "contents": result.contents, "diff": result.diff}
    )


HANDLERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "format_fix": format_fix,
    "rename": rename,
    "changelog_release": release.handler,
    "lint_fix_text": buffer.lint_fix_text,  # the editor's buffer (codetier lsp)
    "rename_at": buffer.rename_at,  # rope at a position, over unsaved buffers (codetier lsp)
}


class ToolProvider:
    name = "tool"

    def complete(self, call: Call) -> Completion:
        handler = HANDLERS.get(call.task)
        if handler is None:
            raise ProviderError("no_tool", f"no deterministic tool for task {call.task}", retryable=True)
        try:
            return Completion(text=handler(call.payload), stop_reason="end_turn")
        except CodetierError as e:
            raise ProviderError("tool_failed", str(e), retryable=True) from None
