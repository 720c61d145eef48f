"""Which config keys exist: the built-in defaults are the schema.

A key is known when the defaults have it. Tables of named entries (tiers,
models, tasks, per-tier caps, price rows) take any name whose keys appear in
some entry of the defaults. A typo is an error that names the file and key,
as ruff does for its own settings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# Tables whose children are named by the user; their keys come from any default entry.
NAMED = ("tiers", "models", "tasks", "budget.tier_daily_usd")
# Keys read with a fallback that a default value would hide.
OPTIONAL = frozenset({"lsp.fix_with_model"})


def _keys(node: Mapping[str, Any], prefix: str = "", *, into_named: bool = True) -> Iterator[str]:
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        yield dotted
        if not isinstance(value, Mapping) or dotted.endswith(".variant"):
            continue
        if into_named or dotted not in NAMED:
            yield from _keys(value, f"{dotted}.", into_named=into_named)


def _template(defaults: Mapping[str, Any]) -> tuple[set[str], dict[str, set[str]], set[str]]:
    exact = set(_keys({k: v for k, v in defaults.items() if k != "prices"}, into_named=False)) | OPTIONAL
    named: dict[str, set[str]] = {}
    for table in NAMED:
        node: Any = defaults
        for part in table.split("."):
            node = node.get(part, {})
        named[table] = {k for entry in node.values() if isinstance(entry, Mapping) for k in entry}
    price_keys = {k for row in defaults.get("prices", []) for k in row}
    return exact, named, price_keys


def unknown_keys(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """Dotted keys in `data` that codetier does not read."""
    exact, named, price_keys = _template(defaults)
    out = []
    for row in data.get("prices", []):
        if isinstance(row, Mapping):
            where = f"prices.{row.get('model')}@{row.get('effective')}"
            out += [f"{where}.{k}" for k in row if k not in price_keys]
    for key in _keys({k: v for k, v in data.items() if k != "prices"}):
        if any(key.startswith(bad + ".") for bad in out):
            continue  # inside a table already reported
        table = next((t for t in NAMED if key.startswith(t + ".")), None)
        if table is None:
            if key not in exact:
                out.append(key)
            continue
        rest = key[len(table) + 1 :].split(".")
        if table == "budget.tier_daily_usd" or len(rest) < 2:
            continue  # an entry's name (tier names are checked when the registry is built)
        if len(rest) == 2 and rest[1] not in named[table]:
            out.append(key)
    return out


def suggestion(key: str, defaults: Mapping[str, Any]) -> str:
    """' (did you mean budget.daily_usd?)' for a near miss, else ''."""
    import difflib

    exact, named, _ = _template(defaults)
    candidates = exact | {f"{t}.*.{k}" for t, keys in named.items() for k in keys}
    parts = key.split(".")
    for table in NAMED:
        if key.startswith(table + ".") and len(parts) > len(table.split(".")) + 1:
            name = parts[len(table.split("."))]
            candidates = {c.replace(f"{table}.*.", f"{table}.{name}.") for c in candidates}
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def env_suggestion(name: str, defaults: Mapping[str, Any]) -> str:
    """' (did you mean CODETIER_ANTHROPIC__MAX_RETRIES?)' for `max_retries` or
    `anthropic_max_retries`, the setting whose key it names; for a table such as `budget`,
    one of its keys as an example."""
    exact, _, _ = _template(defaults)
    below = sorted(k for k in exact if k.startswith(name + "."))
    found = below[:1] or sorted(k for k in exact if k.split(".")[-1] == name or k.replace(".", "_") == name)
    if not found:
        return ""
    names = " or ".join("CODETIER_" + k.upper().replace(".", "__") for k in found[:2])
    return f" (did you mean {names}?)" if not below else f" (a table: e.g. {names})"
