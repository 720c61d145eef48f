"""The spend report as one self-contained HTML page: no scripts, no external
files, one inline SVG chart per section."""

from __future__ import annotations

from html import escape
from typing import Any

from codetier.output import usd
from codetier.report.terminal import failed_first

COLORS = {"tool": "#4caf50", "fast": "#29b6f6", "balanced": "#ffb300", "deep": "#ab47bc"}
OTHER = "#90a4ae"
CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}tr:nth-child(even){background:#f5f5f5}
section{margin:2em 0}.warn{color:#c62828;font-weight:bold}.note{color:#555;font-size:12px}
"""


def _bars(items: list[tuple[str, list[tuple[str, float]], str]], unit: str = "") -> str:
    """Horizontal stacked bars: (label, [(color, value)], caption) per row."""
    row_h, label_w, bar_w = 22, 140, 560
    peak = max((sum(v for _, v in parts) for _, parts, _ in items), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 140}"'
        f' height="{row_h * max(len(items), 1) + 4}" role="img">'
    ]
    for i, (label, parts, caption) in enumerate(items):
        y = i * row_h + 2
        out.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>')
        x = float(label_w)
        for color, value in parts:
            w = value / peak * bar_w
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{color}"/>')
                x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{escape(caption)}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def _table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(ident: str, title: str, chart: str, *body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{chart}{"".join(body)}</section>'


def render(report: dict[str, Any]) -> str:
    """The page as a string."""
    p, tot = report["period"], report["totals"]
    groups = report["groups"]
    by = report["by"]

    def color(key: Any) -> str:
        return COLORS.get(str(key), OTHER) if by == "tier" else OTHER

    summary = _section(
        "groups",
        f"Cost by {by}",
        _bars(
            [(str(g["key"]), [(color(g["key"]), g["cost_micros"])], usd(g["cost_micros"])) for g in groups]
        ),
        _table(
            [
                by,
                "calls",
                "% calls",
                "input",
                "output",
                "cache write",
                "cache read",
                "cost",
                "% cost",
                "p50 ms",
                "p95 ms",
                "saved",
            ],
            [
                [
                    str(g["key"]),
                    str(g["calls"]),
                    f"{g['call_share']:.0%}",
                    f"{g['input_tokens']:,}",
                    f"{g['output_tokens']:,}",
                    f"{g['cache_write_tokens']:,}",
                    f"{g['cache_read_tokens']:,}",
                    usd(g["cost_micros"]),
                    f"{g['cost_share']:.0%}",
                    "-" if g["latency_p50_ms"] is None else str(g["latency_p50_ms"]),
                    "-" if g["latency_p95_ms"] is None else str(g["latency_p95_ms"]),
                    usd(g["savings_gross_micros"]),
                ]
                for g in groups
            ],
        ),
    )
    days = _section(
        "days",
        "Cost per day by tier",
        _bars(
            [
                (
                    d["day"],
                    [(COLORS.get(t, OTHER), c) for t, c in d["tiers"].items()],
                    usd(sum(d["tiers"].values())),
                )
                for d in report["days"]
            ]
        ),
        '<p class="note">'
        + " ".join(f'<span style="color:{c}">■</span> {t}' for t, c in COLORS.items())
        + "</p>",
    )
    savings = _section(
        "savings",
        "Against sending everything to the deep model",
        _bars(
            [
                ("all on deep", [(COLORS["deep"], tot["baseline_micros"])], usd(tot["baseline_micros"])),
                ("actual cost", [(OTHER, tot["cost_micros"])], usd(tot["cost_micros"])),
            ]
        ),
        f"<p>saved {usd(tot['savings_gross_micros'])} gross, {usd(tot['savings_net_micros'])} net of"
        f" {usd(tot['failed_attempts_micros'])} in failed attempts and"
        f" {usd(report['cache']['precompute']['waste_micros'])} in unused drafts.</p>",
        f'<p class="note">{escape(report["baseline"]["rule"])}</p>',
    )
    esc = report["escalation"]
    warn = (
        f'<p class="warn">escalation rate {esc["rate"]:.0%} is above {esc["threshold"]:.0%}: '
        + escape(", ".join(esc["escalating_tasks"]) + failed_first(esc["failed_first"]))
        + "</p>"
        if esc["warn"]
        else f"<p>escalation rate {esc['rate']:.0%} ({esc['escalated']} of {esc['requests']} requests)</p>"
    )
    escalation = _section(
        "escalation",
        "Escalations by task",
        _bars([(t["task"], [(OTHER, t["rate"] * 100)], f"{t['rate']:.0%}") for t in esc["tasks"]]),
        warn,
    )
    pre = report["cache"]["precompute"]
    cache = _section(
        "cache",
        "Cache and precompute",
        _bars(
            [
                ("cache hits", [(COLORS["tool"], report["cache"]["hits"])], str(report["cache"]["hits"])),
                ("drafts used", [(COLORS["fast"], pre["used"])], str(pre["used"])),
                ("drafts unused", [(OTHER, pre["unused"])], f"{pre['unused']} ({usd(pre['waste_micros'])})"),
            ]
        ),
    )
    sections = [summary, days, savings, escalation, cache]
    budget = report.get("budget")
    if budget:
        rows = [("daily", budget["daily"]), *list(budget["tiers"].items())]
        rows = [(n, b) for n, b in rows if b["limit_micros"] is not None]
        sections.append(
            _section(
                "budget",
                f"Budget left on {budget['day']} (mode: {budget['mode']})",
                _bars(
                    [
                        (
                            n,
                            [(OTHER, b["spent_micros"]), (COLORS["tool"], b["remaining_micros"])],
                            f"{usd(b['remaining_micros'])} of {usd(b['limit_micros'])} left",
                        )
                        for n, b in rows
                    ]
                ),
            )
        )
    title = f"codetier spend {p['since']} to {p['until']}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>{tot['calls']} calls · {usd(tot['cost_micros'])}</p>" + "".join(sections) + "</body></html>\n"
    )
