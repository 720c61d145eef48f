"""The server's settings, typed, one docstring per key.

Read from `[lsp]` in codetier's config (so `codetier config` shows them and a
bad value names its file and key), then overridden by the editor's
`initializationOptions` (flat, or under a `codetier` key).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codetier.config import Config
from codetier.errors import ConfigError
from codetier.registry import Reader

EXPLAIN_IN = ("document", "message")


@dataclass(frozen=True)
class Settings:
    tests_dir: str = "tests"
    """Where "Write tests" puts tests/test_<module>.py, relative to the repository root."""

    fix_with_model: bool = False
    """"Fix lint here" sends what ruff cannot fix to the fast tier (defaults to `[fix] llm`)."""

    explain_in: str = "document"
    """Show an explanation as a read-only Markdown document ("document", when the editor can
    show documents) or as a message ("message")."""

    test_python: str = ""
    """The Python that collects generated tests; empty: the repository's .venv if it has one,
    else the Python running the server."""


def _check(source: str, key: str, value: Any, kind: type, choices: tuple[str, ...] = ()) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(source, key, f"expected {kind.__name__}, got {value!r}")
    if choices and value not in choices:
        raise ConfigError(source, key, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def load(cfg: Config, options: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the config, then the editor's initializationOptions."""
    r = Reader(cfg)
    values: dict[str, Any] = {
        "tests_dir": r.string("lsp.tests_dir", default="tests"),
        "fix_with_model": r.boolean("lsp.fix_with_model", r.boolean("fix.llm", False)),
        "explain_in": r.string("lsp.explain_in", EXPLAIN_IN, default="document"),
        "test_python": r.string("lsp.test_python", default=""),
    }
    opts = options or {}
    if isinstance(opts.get("codetier"), Mapping):
        opts = opts["codetier"]
    fields = {f.name: f.type for f in dataclasses.fields(Settings)}
    for key, value in opts.items():
        if key not in fields:
            continue  # editors send their own keys too; ignore what is not ours
        kind = bool if fields[key] == "bool" else str
        choices = EXPLAIN_IN if key == "explain_in" else ()
        values[key] = _check("initializationOptions", f"codetier.{key}", value, kind, choices)
    return Settings(**values)
