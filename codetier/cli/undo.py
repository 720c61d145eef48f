"""`codetier undo`: restore the files a plan or a rename applied, byte for byte."""

from __future__ import annotations

import click

from codetier import output
from codetier.cli.common import load, repo_root
from codetier.plan import transaction


@click.command()
@click.option("--force", is_flag=True, help="Restore even files edited since the change was applied.")
@click.option("--list", "as_list", is_flag=True, help="List the undo points of this repository.")
def undo(force: bool, as_list: bool) -> None:
    """Undo the last change `codetier ask --apply` or a rename made in this repository.

    Each applied change records the exact previous bytes of every file it touched;
    undo restores them (and removes files the change created). A file edited
    since is left alone unless --force. Run it again to undo an earlier change.
    """
    cfg, _reg = load()
    root = repo_root(cfg)
    if as_list:
        found = transaction.points(root)
        if not found:
            output.echo("no undo points")
        for p in found:
            state = "undone" if p.manifest.get("undone") else "applied"
            output.echo(f"{p.id}  {state:7}  {p.manifest.get('request_id', '')}  {', '.join(p.files)}")
        return
    point = transaction.undo(root, force=force)
    output.echo(f"restored {len(point.files)} file(s) from {point.id}: {', '.join(point.files)}")
