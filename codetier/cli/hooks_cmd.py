from __future__ import annotations

import click

from codetier import output
from codetier.tools import git


@click.group()
def hooks() -> None:
    """Install codetier as plain git hooks (for repos without pre-commit).

    With pre-commit, add codetier's hooks (codetier-commit-msg, codetier-fix,
    codetier-changelog) to .pre-commit-config.yaml instead, with the git URL
    where you host codetier and a rev (tag or commit SHA) that exists there;
    see the hooks page of the codetier documentation (docs/hooks.md in the
    source).
    """


@hooks.command()
@click.option(
    "--force",
    is_flag=True,
    help="Replace existing hooks; each is kept as <hook>.legacy and runs first.",
)
@click.option("--fix", "with_fix", is_flag=True, help="Also run ruff format + fix on staged Python files.")
@click.option("--changelog", "with_changelog", is_flag=True, help="Also add a CHANGELOG.md entry per commit.")
def install(force: bool, with_fix: bool, with_changelog: bool) -> None:
    """Install prepare-commit-msg (and a pre-commit hook with --fix/--changelog)."""
    from codetier_hooks.install import install as do_install

    steps = [name for name, on in (("fix", with_fix), ("changelog", with_changelog)) if on]
    for line in do_install(git.toplevel(), steps=steps, force=force):
        output.echo(line)


@hooks.command()
def uninstall() -> None:
    """Remove codetier's git hooks, restoring any hook they replaced."""
    from codetier_hooks.install import uninstall as do_uninstall

    lines = do_uninstall(git.toplevel())
    for line in lines or ["no codetier hooks installed"]:
        output.echo(line)
