"""The spend report for a terminal: rich tables and a bar chart of cost per day by tier."""

from __future__ import annotations

import sys
from typing import IO, Any

from codetier import output
from codetier.output import usd

TIER_STYLE = {"tool": "green", "fast": "cyan", "balanced": "yellow", "deep": "magenta"}
TIER_MARK = {"tool": "░", "fast": "▒", "balanced": "▓", "deep": "█"}
BAR_WIDTH = 48


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _tokens(n: int) -> str:
    return f"{n:,}"


def render(
    report: dict[str, Any], file: IO[str] | None = None, *, width: int | None = None, color: bool = True
) -> None:
    """Print the report. `color=False` gives plain text (what the golden files hold)."""
    from rich.console import Console

    console = Console(
        file=file or sys.stdout,
        width=width or output.width(),
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
    )
    period = report["period"]
    title = f"codetier spend · {period['since']}"
    if period["until"] != period["since"]:
        title += f" → {period['until']}"
    session = report["filters"].get("session")
    if session:
        title += f" · session {session['id']}"
    if report["filters"].get("repo"):
        title += f" · {report['filters']['repo']}"
    console.print(_groups_table(report, title))
    console.print(_savings_line(report))
    esc = report["escalation"]
    line = f"escalation: {esc['escalated']} of {esc['requests']} requests ({_pct(esc['rate'])})"
    if esc["warn"]:
        line = f"[bold red]warning:[/] {line}, above {_pct(esc['threshold'])}: " + ", ".join(
            f"{t['task']} {_pct(t['rate'])}" for t in esc["tasks"] if t["task"] in esc["escalating_tasks"]
        )
        line += failed_first(esc["failed_first"])
    console.print(line)
    cache = report["cache"]
    pre = cache["precompute"]
    console.print(
        f"cache hits: {cache['hits']} · precomputed drafts: {pre['drafts']}"
        f" ({pre['used']} used, {pre['unused']} unused, waste {usd(pre['waste_micros'])})"
    )
    if report.get("budget"):
        console.print(_budget_line(report["budget"]))
    if len(report["days"]) > 1:
        console.print()
        _chart(console, report["days"])


def _groups_table(report: dict[str, Any], title: str) -> Any:
    from rich.table import Table

    by = report["by"]
    t = Table(title=title, title_justify="left")
    for i, col in enumerate(
        [by, "calls", "% calls", "input", "output", "cache w/r", "cost", "% cost", "p50", "p95", "saved"]
    ):
        t.add_column(col, justify="left" if i == 0 else "right")
    for g in report["groups"]:
        key = str(g["key"])
        style = TIER_STYLE.get(key) if by == "tier" else None
        t.add_row(
            f"[{style}]{key}[/]" if style else key,
            str(g["calls"]),
            _pct(g["call_share"]),
            _tokens(g["input_tokens"]),
            _tokens(g["output_tokens"]),
            f"{_tokens(g['cache_write_tokens'])}/{_tokens(g['cache_read_tokens'])}",
            usd(g["cost_micros"]),
            _pct(g["cost_share"]),
            f"{g['latency_p50_ms']}ms" if g["latency_p50_ms"] is not None else "-",
            f"{g['latency_p95_ms']}ms" if g["latency_p95_ms"] is not None else "-",
            usd(g["savings_gross_micros"]),
        )
    tot = report["totals"]
    t.add_row(
        "[bold]total[/]",
        str(tot["calls"]),
        "100%" if tot["calls"] else "0%",
        _tokens(tot["input_tokens"]),
        _tokens(tot["output_tokens"]),
        f"{_tokens(tot['cache_write_tokens'])}/{_tokens(tot['cache_read_tokens'])}",
        usd(tot["cost_micros"]),
        "100%" if tot["cost_micros"] else "0%",
        "",
        "",
        usd(tot["savings_gross_micros"]),
        end_section=True,
    )
    return t


def _savings_line(report: dict[str, Any]) -> str:
    tot = report["totals"]
    model = report["baseline"]["model"] or "the deep model"
    # Two lines, so neither wraps mid-phrase in an 80- or 120-column terminal.
    return (
        f"all on {model}: {usd(tot['baseline_micros'])} · saved {usd(tot['savings_gross_micros'])} gross,"
        f" {usd(tot['savings_net_micros'])} net\n"
        f"  (net of {usd(tot['failed_attempts_micros'])} in failed attempts"
        f" and {usd(report['cache']['precompute']['waste_micros'])} in unused drafts)"
    )


def failed_first(counts: dict[str, int]) -> str:
    """'; first links that failed: 9 provider or network errors, 3 failed checks', or ''."""
    names = {
        "provider_error": "provider or network error",
        "check_failed": "failed check",
        "budget_refused": "over budget",
    }
    parts = [
        f"{n} {name}{'s' if n != 1 and not name.startswith('over') else ''}"
        for key, name in names.items()
        if (n := counts.get(key, 0))
    ]
    return "; first links that failed: " + ", ".join(parts) if parts else ""


def _budget_line(budget: dict[str, Any]) -> str:
    daily = budget["daily"]
    parts = []
    if daily["limit_micros"] is not None:
        parts.append(f"{usd(daily['remaining_micros'])} of {usd(daily['limit_micros'])} left today")
    else:
        parts.append(f"{usd(daily['spent_micros'])} spent today, no daily budget")
    for tier, cap in budget["tiers"].items():
        parts.append(f"{tier} {usd(cap['remaining_micros'])} of {usd(cap['limit_micros'])}")
    if budget["per_call_micros"] is not None:
        parts.append(f"per call {usd(budget['per_call_micros'])}")
    then = "a task steps down a tier" if budget["mode"] == "step_down" else "codetier stops"
    return f"budget ({budget['day']}): " + " · ".join(parts) + f"\n  (at a cap {then})"


def _chart(console: Any, days: list[dict[str, Any]]) -> None:
    """One stacked bar per day, a block character and a colour per tier."""
    peak = max((sum(d["tiers"].values()) for d in days), default=0)
    console.print("cost per day by tier")
    for d in days:
        total = sum(d["tiers"].values())
        bar = ""
        for tier, cost in d["tiers"].items():
            n = round(cost / peak * BAR_WIDTH) if peak else 0
            if n:
                style = TIER_STYLE.get(tier, "white")
                bar += f"[{style}]{TIER_MARK.get(tier, '#') * n}[/]"
        console.print(f"{d['day']} {bar} {usd(total)}")
    legend = "  ".join(f"[{s}]{TIER_MARK[t]}[/] {t}" for t, s in TIER_STYLE.items())
    console.print(f"{'':10} {legend}")
