from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import click

from codetier import config as settings
from codetier import output, registry


def leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if key == "prices" and not prefix:
            for row in value:
                yield (
                    f"prices.{row.get('model')}@{row.get('effective')}",
                    {k: v for k, v in row.items() if k not in ("model", "effective")},
                )
        elif isinstance(value, Mapping) and not (prefix.endswith(".variant.") or key == "variant"):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@click.command()
@click.option("--check", is_flag=True, help="Validate every layer; exit 2 on a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print settings and their sources as JSON.")
def config(check: bool, as_json: bool) -> None:
    """Print the effective settings and where each one came from.

    --check reports every unknown key and the first bad value, and exits 2.

    Precedence: flags > CODETIER_* env > .codetier.toml > [tool.codetier] in
    pyproject.toml > user config > built-in defaults.
    """
    cfg = settings.load()
    if check:
        found = registry.problems(cfg)
        if found:
            for problem in found:
                output.err(f"codetier: {problem}")
            raise click.exceptions.Exit(2)
        output.echo("config ok: " + ", ".join(dict.fromkeys(cfg.origin.values())))
        return
    registry.build(cfg)  # raises ConfigError naming the file and key
    rows = list(leaves(cfg.data))
    if as_json:
        output.emit_json({key: {"value": value, "source": source_of(cfg, key)} for key, value in rows})
        return
    for key, value in rows:
        output.echo(f"{key} = {json.dumps(value, default=str)}  # {source_of(cfg, key)}")


def source_of(cfg: settings.Config, key: str) -> str:
    if key in cfg.origin:
        return cfg.origin[key]
    return next((s for k, s in cfg.origin.items() if k.startswith(key + ".")), settings.DEFAULTS)
