from __future__ import annotations

from pathlib import Path

import click

from codetier import output
from codetier.chores.lint_fix import run_fix
from codetier.cli.common import load
from codetier.errors import UsageError
from codetier.tools import git


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def fix(paths: tuple[str, ...]) -> None:
    """Format and lint-fix Python files with ruff (tool tier, $0).

    PATHS default to every tracked or new Python file of the repo. Lint errors
    ruff cannot fix are reported (exit 1); with `[fix] llm = true` they go to
    the fast tier first, and a rewrite is kept only if it parses and ruff
    passes on it.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:  # a usage error (exit 2), as click's own path checks
        raise UsageError(f"fix: {missing[0]}: no such file or directory")
    root = git.toplevel()
    cfg, reg = load(root)
    report = run_fix(root, cfg, reg, paths, source="cli")
    for line in report.lines():
        output.echo(line)
    for note in report.notes:
        output.err(f"codetier: {note}")
    if not report.lines():
        output.echo("nothing to change")
    if report.remaining:
        raise click.exceptions.Exit(1)
