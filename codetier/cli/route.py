from __future__ import annotations

from pathlib import Path

import click

from codetier import output, router
from codetier.cli.common import load, repo_root
from codetier.engine import Route


def show(r: Route) -> None:
    chain = " → ".join(f"{x.tier}:{x.label}" for x in r.links)
    output.echo(f"task:   {r.task}")
    output.echo(f"tier:   {r.tier}")
    output.echo(f"chain:  {chain}")
    output.echo("why:")
    for reason in r.reasons:
        output.echo(f"  - {reason}")


def files_of(text: str, files: tuple[str, ...], root: Path) -> tuple[Path, ...]:
    named = [Path(f) for f in files] + [Path(f) for f in router.files_in_text(text, Path.cwd())]
    return tuple(dict.fromkeys(p.resolve() for p in named))


@click.command()
@click.argument("text")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A file the request is about (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def route(text: str, files: tuple[str, ...], as_json: bool) -> None:
    """Print how TEXT would be routed, and why, without running it."""
    cfg, reg = load()
    r = router.route(text, reg, files=files_of(text, files, repo_root(cfg)))
    if as_json:
        output.emit_json(router.describe(r))
    else:
        show(r)
