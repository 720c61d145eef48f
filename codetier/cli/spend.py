from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from codetier import ledger, output
from codetier.errors import UsageError
from codetier.ledger import reports, sessions


def _date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag}: expected a date as YYYY-MM-DD, got {value!r}") from None


def period(
    today: bool, date: str | None, since: str | None, until: str | None, days: int | None, now: dt.date
) -> tuple[dt.date, dt.date]:
    """The day range the flags ask for; the last 7 days when none is given."""
    chosen = [n for n, v in (("--today", today), ("--date", date), ("--days", days)) if v]
    if since or until:
        chosen.append("--since/--until")
    if len(chosen) > 1:
        raise UsageError(f"choose one of {', '.join(chosen)}")
    if today:
        return now, now
    if date:
        d = _date(date, "--date")
        assert d is not None
        return d, d
    if since or until:
        lo = _date(since, "--since") or dt.date.min
        hi = _date(until, "--until") or now
        if lo > hi:
            raise UsageError(f"--since {lo} is after --until {hi}")
        return lo, hi
    n = days if days is not None else 7
    if n < 1:
        raise UsageError(f"--days: expected 1 or more, got {n}")
    return now - dt.timedelta(days=n - 1), now


@click.command()
@click.option("--today", is_flag=True, help="Only today.")
@click.option("--date", metavar="D", help="One day (YYYY-MM-DD).")
@click.option("--since", metavar="D", help="From this day on (YYYY-MM-DD).")
@click.option("--until", metavar="D", help="Up to this day (YYYY-MM-DD, default today).")
@click.option("--days", type=int, metavar="N", help="The last N days, today included (default 7).")
@click.option("--session", metavar="ID", help="One session: its id, or `current` for this repo's latest.")
@click.option("--repo", type=click.Path(file_okay=False), help="Only calls made in this repo.")
@click.option(
    "--by",
    type=click.Choice(sorted(reports.GROUPS)),
    default="tier",
    show_default=True,
    help="Group the table by this.",
)
@click.option(
    "--request",
    "request_id",
    metavar="ID",
    help="One request: its plan and execution costs against all on the deep model.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (schema codetier.spend/1).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Also write an HTML page here.")
def spend(
    today: bool,
    date: str | None,
    since: str | None,
    until: str | None,
    days: int | None,
    session: str | None,
    repo: str | None,
    by: str,
    request_id: str | None,
    as_json: bool,
    html_file: str | None,
) -> None:
    """Calls, tokens, cost, latency, escalations, cache hits and savings
    against sending everything to the deep model, with what the budget has left.

    A session is one repo's activity with no gap longer than
    spend.session_gap_minutes (30); `--session current` picks this repo's latest.
    """
    if request_id:
        show_request(request_id, as_json)
        return
    from codetier.cli.common import load

    cfg, reg = load()
    now = dt.date.today()
    lo, hi = period(today, date, since, until, days, now)
    repo_key = str(Path(repo).resolve()) if repo else None
    db = ledger.connect()
    try:
        found = None
        if session == "current":
            where = repo_key or str(cfg.repo or Path.cwd().resolve())
            found = sessions.current(db, where, reg.session_gap_minutes)
            if found is None:
                raise UsageError(f"--session current: no calls recorded in {where}")
        elif session:
            found = sessions.by_id(db, session, reg.session_gap_minutes)
        if found is not None:
            d0 = dt.datetime.fromisoformat(found.first).astimezone().date()
            d1 = dt.datetime.fromisoformat(found.last).astimezone().date()
            scope = reports.Scope(d0, d1, found.repo, found.first, found.last)
            label: dict[str, str | None] | None = {**found.as_dict()}
        else:
            # Not a derived id: rows that carry this session id (set by the daemon or editor).
            label = {"id": session, "repo": repo_key, "first": None, "last": None} if session else None
            if lo == dt.date.min:  # --until alone: from the first row on
                first = db.execute("SELECT MIN(day) FROM attempts").fetchone()[0]
                lo = min(dt.date.fromisoformat(first), hi) if first else hi
            scope = reports.Scope(lo, hi, repo_key, session=session)
        budget = reports.budget_status(
            reports.spent_by_tier(db, now),
            reg.daily_micros,
            reg.per_call_micros,
            reg.tier_daily_micros,
            reg.budget_mode,
            now,
        )
        report = reports.spend_report(
            db, scope, by, baseline_model=reg.baseline_model, budget=budget, session=label
        )
    finally:
        db.close()
    if html_file:
        from codetier.report import html

        try:
            Path(html_file).write_text(html.render(report), encoding="utf-8")
        except OSError as e:
            raise UsageError(f"--html {html_file}: {e.strerror}") from None
    if as_json:
        output.emit_json(report)
        return
    from codetier.report import terminal

    terminal.render(report)
    if html_file:
        output.err(f"wrote {html_file}")


def show_request(request_id: str, as_json: bool) -> None:
    """A request's split: the plan call, the execution, anything else, and the
    same tokens with every call on the deep model."""
    from codetier.ledger.requests import request_split

    db = ledger.connect()
    try:
        split = request_split(db, request_id)
    finally:
        db.close()
    if not (split.plan.calls or split.execute.calls or split.other.calls):
        raise UsageError(f"--request {request_id}: no calls recorded under this id")
    if as_json:
        output.emit_json(split.as_dict())
        return
    rows = [
        [name, str(p.calls), str(p.failed), output.usd(p.cost_micros), output.usd(p.counterfactual_micros)]
        for name, p in (("plan", split.plan), ("execute", split.execute), ("other", split.other))
        if p.calls
    ]
    rows.append(["total", "", "", output.usd(split.cost_micros), output.usd(split.counterfactual_micros)])
    columns = ["phase", "calls", "failed", "cost", "all on deep"]
    output.table(f"codetier spend · request {request_id}", columns, rows)
    output.echo(f"saved {output.usd(split.savings_micros)} against sending every call to the deep model")
