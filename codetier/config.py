"""Layered configuration with provenance.

Precedence, lowest first: built-in defaults < user config < `[tool.codetier]`
in pyproject.toml < `.codetier.toml` < `CODETIER_SECTION__KEY` env vars <
flags. Read at call time, never at import.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from codetier import paths
from codetier.errors import ConfigError

DEFAULTS = "built-in defaults"
ENV_PREFIX = "CODETIER_"
VARIABLES = ("CODETIER_HOME", "CODETIER_SKIP")  # the CODETIER_* names that are not settings


class Layer(NamedTuple):
    source: str  # a file path, "built-in defaults", "environment (VAR)" or "flags"
    data: Mapping[str, Any]


class Config(NamedTuple):
    """The merged settings and, for every leaf key, the layer it came from."""

    data: Mapping[str, Any]
    origin: Mapping[str, str]
    repo: Path | None
    # CODETIER_* variables that are neither a setting (SECTION__KEY) nor in VARIABLES.
    stray: tuple[str, ...] = ()

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


def find_repo_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above `start` with .git, .codetier.toml or pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    for d in (here, *here.parents):
        if (d / ".codetier.toml").is_file() or (d / "pyproject.toml").is_file():
            return d
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), "(file)", f"invalid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(str(path), "(file)", f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ConfigError(str(path), "(file)", f"cannot read: {e.strerror}") from None


@functools.cache
def default_layer() -> Layer:
    """The built-in registry (package data, parsed once per process). Read beside this
    module: importlib.resources costs ~7 ms of imports and the package is never zipped."""
    text = Path(__file__).with_name("defaults.toml").read_text("utf-8")
    return Layer(DEFAULTS, tomllib.loads(text))


def file_layers(repo: Path | None) -> list[Layer]:
    layers = []
    user = paths.user_config()
    if user.is_file():
        layers.append(Layer(str(user), _read_toml(user)))
    if repo is not None:
        pyproject = repo / "pyproject.toml"
        if pyproject.is_file():
            tool = _read_toml(pyproject).get("tool", {})
            section = tool.get("codetier") if isinstance(tool, dict) else None
            if section is not None and not isinstance(section, dict):
                raise ConfigError(str(pyproject), "tool.codetier", f"expected a table, got {section!r}")
            if section is not None:
                layers.append(Layer(f"{pyproject} [tool.codetier]", section))
        dotfile = repo / ".codetier.toml"
        if dotfile.is_file():
            layers.append(Layer(str(dotfile), _read_toml(dotfile)))
    return layers


def env_layers(environ: Mapping[str, str]) -> list[Layer]:
    """`CODETIER_BUDGET__DAILY_USD=3` sets budget.daily_usd; values parse as TOML.
    One layer per variable, so an error names the variable."""
    layers = []
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        data: dict[str, Any] = {}
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
        layers.append(Layer(f"environment ({name})", data))
    return layers


def _merge(
    into: dict[str, Any], origin: dict[str, str], new: Mapping[str, Any], source: str, prefix: str
) -> None:
    for key, value in new.items():
        dotted = f"{prefix}{key}"
        if dotted == "prices":
            if not isinstance(value, list):
                raise ConfigError(source, "prices", f"expected [[prices]] rows, got {value!r}")
            _merge_prices(into, origin, value, source)
        elif isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], origin, value, source, f"{dotted}.")
        elif isinstance(into.get(key), dict) and not isinstance(value, Mapping):
            raise ConfigError(source, dotted, f"expected a table, got {value!r}")
        else:
            into[key] = _copy(value)
            _mark(origin, dotted, value, source)


def _mark(origin: dict[str, str], dotted: str, value: Any, source: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _mark(origin, f"{dotted}.{k}", v, source)
    else:
        origin[dotted] = source


def _merge_prices(into: dict[str, Any], origin: dict[str, str], rows: list[Any], source: str) -> None:
    """Price rows merge by (model, effective): a user row adds or replaces one row."""
    table: list[Any] = into.setdefault("prices", [])
    for row in rows:
        if not isinstance(row, Mapping):
            raise ConfigError(source, "prices", f"expected a table per row, got {row!r}")
        key = (row.get("model"), row.get("effective"))
        table[:] = [r for r in table if (r.get("model"), r.get("effective")) != key]
        table.append(dict(row))
        origin[f"prices.{row.get('model')}@{row.get('effective')}"] = source


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def merge(layers: list[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for layer in layers:
        _merge(data, origin, layer.data, layer.source, "")
    return data, origin


def load(
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Read every layer now and merge them (no caching: config is read at call time)."""
    repo = find_repo_root(start)
    layers = [
        default_layer(),
        *file_layers(repo),
        *env_layers(os.environ if environ is None else environ),
    ]
    if flags:
        layers.append(Layer("flags", flags))
    data, origin = merge(layers)
    env = os.environ if environ is None else environ
    stray = tuple(sorted(n for n in env if n.startswith(ENV_PREFIX) and "__" not in n and n not in VARIABLES))
    return Config(data, origin, repo, stray)
