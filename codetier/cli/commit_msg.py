from __future__ import annotations

from pathlib import Path

import click

from codetier import msgfile, output
from codetier.chores import commit_message
from codetier.cli.common import load
from codetier.tools import git


@click.command("commit-msg")
@click.option(
    "--write",
    "write",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the message into this file (git's message file: its comment lines are kept).",
)
def commit_msg(write: Path | None) -> None:
    """Print the commit message for the staged change (or write it with --write).

    The same path as the prepare-commit-msg hook: the staged diff, the branch
    and the last ten subjects go to the fast tier; the answer is checked and
    escalates on failure; with no key or no network it is a deterministic
    offline draft (and one line on stderr says why).
    """
    root = git.toplevel()
    cfg, reg = load(root)
    composed = commit_message.compose(root, cfg, reg, source="cli")
    if write is not None:
        msgfile.write_message(write, composed.message)
    else:
        output.echo(composed.message)
    if composed.note:
        output.err(f"codetier: {composed.note}")
