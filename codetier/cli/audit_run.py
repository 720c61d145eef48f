"""`codetier audit`'s work and its terminal report; cli/audit.py and cli/fast.py parse
the arguments (this module imports no click)."""

from __future__ import annotations

import sys
from pathlib import Path

from codetier import output
from codetier.errors import UsageError

TYPE_CHECKING = False  # typing costs ~3 ms to import: only the type checker needs it here
if TYPE_CHECKING:
    from typing import Any


def run(paths: tuple[Path, ...], since: str | None, as_json: bool, do_import: bool) -> None:
    """The audit, by the daemon when one is running in this environment (it has everything
    imported already), else here. Output is the same either way."""
    from codetier.audit import discover

    day = None
    if since:
        import datetime as dt

        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since: expected a date as YYYY-MM-DD, got {since!r}") from None
    # Absolute: files are known by path from run to run, whichever process reads them.
    # (Not normalised: "link/.." is where the link's target is, not the current dir.)
    roots = [Path(p).absolute() for p in (paths or discover.roots())]
    data = None
    if roots and not do_import:  # an import can take minutes: never held in the daemon
        from codetier.daemon import client

        data = client.audit([str(p) for p in roots], since, as_json)
        if isinstance(data, str):  # the text --json prints, made by the daemon
            output.echo(data)
            return
    if data is None:
        if not roots:
            raise UsageError("no Claude Code transcripts found: pass PATHS or set CLAUDE_CONFIG_DIR")
        from codetier.audit import changes
        from codetier.paths import ledger_path

        early = changes.PendingChild(ledger_path(), roots)  # a child finds what is new while we import
        try:
            from codetier.audit import pipeline
            from codetier.cli.common import load

            _, reg = load()
            data = pipeline.audit(roots, day, reg, do_import=do_import, early=early)
        finally:
            early.close()
    if as_json:
        output.emit_json(data)
        return
    render(data)


def render(data: dict[str, Any], file: Any = None, *, color: bool = True) -> None:
    from rich.console import Console
    from rich.table import Table

    usd = output.usd
    console = Console(file=file or sys.stdout, width=output.width(), no_color=not color, highlight=False)
    scan = data["scan"]
    t = Table(title="Claude Code usage by day and model", title_justify="left")
    for i, col in enumerate(
        ["day", "model", "input", "output", "cache create", "cache read", "cost", "routed"]
    ):
        t.add_column(col, justify="left" if i < 2 else "right")
    for d in data["daily"]:
        for m in d["models"]:
            t.add_row(
                d["day"],
                m["model"],
                f"{m['input_tokens']:,}",
                f"{m['output_tokens']:,}",
                f"{m['cache_creation_tokens']:,}",
                f"{m['cache_read_tokens']:,}",
                usd(m["cost_micros"]),
                usd(m["routed_cost_micros"]),
            )
    tot = data["totals"]
    cells = [
        f"{tot[k]:,}" for k in ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens")
    ]
    t.add_row("total", "", *cells, usd(tot["cost_micros"]), usd(tot["routed_cost_micros"]), end_section=True)
    console.print(t)
    saved = tot["cost_micros"] - tot["routed_cost_micros"]
    console.print(
        f"under codetier's routing: {usd(tot['routed_cost_micros'])} (saves {usd(saved)});"
        f" {data['routing']['rule']}"
    )
    prompts = data["routing"]["prompts"]
    if prompts:
        console.print(
            "prompts by tier: " + ", ".join(f"{p['task']} → {p['tier']} x{p['prompts']}" for p in prompts[:8])
        )
    chores = data["expensive_chores"]
    if chores["chores"]:
        c = Table(
            title=f"chores that ran on {chores['model']} (the dearest model) but route lower",
            title_justify="left",
        )
        for i, col in enumerate(["task", "tier", "entries", "cost", "routed"]):
            c.add_column(col, justify="left" if i < 2 else "right")
        for ch in chores["chores"]:
            c.add_row(
                ch["task"],
                ch["tier"],
                str(ch["entries"]),
                usd(ch["cost_micros"]),
                usd(ch["routed_cost_micros"]),
            )
        console.print(c)
    line = (
        f"read {scan['files_read']} of {scan['files']} files ({scan['bytes']:,} bytes new), "
        f"{scan['new_entries']} new entries, {scan['duplicates']} duplicates,"
        f" {scan['malformed']} malformed lines skipped"
    )
    if scan["unpriced_models"]:
        line += f"; no price for {', '.join(scan['unpriced_models'])} (counted at $0)"
    if unreadable := scan["unreadable"]:
        more = [f"{len(unreadable) - 3} more"] if len(unreadable) > 3 else []
        line += f"; could not read {'; '.join(unreadable[:3] + more)} (tried again next run)"
    if "imported" in data:
        line += f"; imported {data['imported']} rows into the ledger"
    console.print(line)
