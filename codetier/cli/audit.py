from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--since", metavar="D", help="Report days from D on (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema codetier.audit/1).")
@click.option(
    "--import", "do_import", is_flag=True, help="Also write the usage into the ledger (source claude-code)."
)
def audit(paths: tuple[Path, ...], since: str | None, as_json: bool, do_import: bool) -> None:
    """Audit Claude Code usage: tokens and cost per day and model, each prompt
    routed to a task and tier, and what codetier's routing would have cost.

    PATHS default to the projects/ dirs under ~/.config/claude and ~/.claude,
    or the comma-separated dirs in CLAUDE_CONFIG_DIR. Runs are incremental:
    only what was appended since the last run is read.
    """
    from codetier.cli.audit_run import run

    run(paths, since, as_json, do_import)
