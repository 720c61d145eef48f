from __future__ import annotations

import click

from codetier import output
from codetier.chores import changelog as chore
from codetier.cli.common import load
from codetier.errors import UsageError
from codetier.tools import git


@click.command()
@click.option("--entry", is_flag=True, help="Add one entry for the staged change under Unreleased.")
@click.option(
    "--release", "version", metavar="VERSION", help="Turn the commits since the last tag into VERSION."
)
@click.option("--date", metavar="YYYY-MM-DD", help="The release date (default: today).")
@click.option("--dry-run", is_flag=True, help="With --release: print the section, write nothing.")
def changelog(entry: bool, version: str | None, date: str | None, dry_run: bool) -> None:
    """Keep CHANGELOG.md (Keep a Changelog) up to date.

    --entry asks the fast tier for one entry describing the staged change
    (an offline draft without a key). --release VERSION groups the
    Conventional Commits since the last tag deterministically, as git-cliff's
    Keep a Changelog parsers do (feat → Added, fix → Fixed, ...; breaking
    changes flagged), together with what Unreleased already holds.
    """
    if entry == bool(version):
        raise UsageError("changelog: give exactly one of --entry or --release VERSION")
    root = git.toplevel()
    cfg, reg = load(root)
    if version:
        done = chore.write_release(root, cfg, reg, version, date=date, dry_run=dry_run)
        output.echo(done.section.rstrip("\n"))
        since = f"since {done.since}" if done.since else "in the whole history"
        verb = "would write" if dry_run else "wrote"
        output.err(f"codetier: {verb} {done.path.name}; {done.skipped} commit(s) {since} not user-visible")
        return
    written = chore.write_entry(root, cfg, reg, source="cli")
    if written is None:
        output.err("codetier: the staged change is not user-visible (tests, docs, CI only): no entry")
        return
    output.echo(f"{written.section}: {written.entry}")
    if written.note:
        output.err(f"codetier: {written.note}")
