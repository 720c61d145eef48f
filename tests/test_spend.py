"""`codetier spend` over ledgers written by real engine runs against the stub."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from spend_support import DAY, reg_for, run
from stub_api import Reply, StubAPI

from codetier import ledger
from codetier.cli import main
from codetier.ledger import reports, sessions
from codetier.report import html, terminal

GOLDEN = Path(__file__).parent / "golden"
SINCE = ["--since", "2026-11-19", "--until", "2026-11-21"]


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.fixture
def busy(stub: StubAPI, repo: Path) -> Path:
    """Two days of work: fast and balanced calls, one escalation, a tool call, cache reads."""
    stub.script(Reply("msg", input_tokens=1_000, output_tokens=100), model="claude-haiku-5-5", times=None)
    stub.script(
        Reply("answer", input_tokens=2_000, output_tokens=500, cache_read=10_000),
        model="claude-sonnet-5-5",
        times=None,
    )
    stub.script(Reply("deep answer", input_tokens=2_000, output_tokens=800), model="claude-opus-5-5")
    reg = reg_for(repo)
    run("commit_message", reg, repo, DAY)
    run("commit_message", reg, repo, DAY + dt.timedelta(minutes=5))
    run("explain", reg, repo, DAY + dt.timedelta(minutes=10))
    run("explain", reg, repo, DAY + dt.timedelta(days=1), reject_first=1)  # balanced fails → deep
    return repo


def report(busy: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["spend", *SINCE, "--json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_tiers_shares_and_totals(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = report(busy, capsys)
    assert data["schema"] == "codetier.spend/1"
    tiers = {t["key"]: t for t in data["tiers"]}
    assert [t["key"] for t in data["tiers"]] == ["fast", "balanced", "deep"]
    assert tiers["fast"]["calls"] == 2 and tiers["balanced"]["calls"] == 2 and tiers["deep"]["calls"] == 1
    assert tiers["fast"]["call_share"] == 0.4
    assert tiers["balanced"]["cache_read_tokens"] == 20_000
    # haiku: 1000 x 0.10 + 100 x 0.50 = 150 micros per call
    assert tiers["fast"]["cost_micros"] == 300
    assert sum(t["cost_share"] for t in data["tiers"]) == pytest.approx(1, abs=0.001)
    assert data["totals"]["calls"] == 5
    assert [d["day"] for d in data["days"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert data["days"][0]["tiers"] == {}


def test_savings_are_net_of_failed_attempts(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tot = report(busy, capsys)["totals"]
    sonnet_call = 2_000 * 2 + 500 * 10 + 10_000 * 0.2  # 11,000 micros
    assert tot["failed_attempts_micros"] == sonnet_call  # the rejected balanced answer
    assert tot["savings_net_micros"] == tot["savings_gross_micros"] - tot["failed_attempts_micros"]
    # Baseline prices the cache reads as cache reads at the deep model (0.20), never as fresh input.
    deep_of_sonnet_call = 2_000 * 4 + 500 * 20 + 10_000 * 0.2
    deep_of_haiku_call = 1_000 * 4 + 100 * 20
    deep_call = 2_000 * 4 + 800 * 20
    assert tot["baseline_micros"] == 2 * deep_of_haiku_call + deep_of_sonnet_call + deep_call
    assert tot["savings_net_micros"] == tot["baseline_micros"] - tot["cost_micros"]


def test_escalation_rate_warns_and_names_the_task(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    esc = report(busy, capsys)["escalation"]
    assert (esc["requests"], esc["escalated"], esc["rate"]) == (4, 1, 0.25)
    assert esc["warn"] and esc["escalating_tasks"] == ["explain"]
    assert main(["spend", *SINCE]) == 0
    assert "warning: escalation: 1 of 4 requests (25%), above 10%: explain 50%" in capsys.readouterr().out


def test_group_by_task_and_day(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    groups = report(busy, capsys, "--by", "task")["groups"]
    assert {g["key"]: g["calls"] for g in groups} == {"explain": 3, "commit_message": 2}
    days = report(busy, capsys, "--by", "day")["groups"]
    assert [g["key"] for g in days] == ["2026-11-20", "2026-11-21"]


def test_current_session_from_a_subdirectory(
    busy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = busy / "pkg" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    data = report(busy, capsys, "--session", "current")
    # The last call was a day after the others: more than 30 minutes, so its own session.
    assert data["totals"]["calls"] == 2
    session = data["filters"]["session"]
    assert session["repo"] == str(busy) and session["id"].startswith("20261121T0900-")
    first = sessions.make_id(str(busy), DAY.isoformat())
    assert report(busy, capsys, "--session", first)["totals"]["calls"] == 3


def test_session_gap_is_configurable(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (busy / ".codetier.toml").write_text("[spend]\nsession_gap_minutes = 2\n")
    data = report(busy, capsys, "--session", sessions.make_id(str(busy), DAY.isoformat()))
    assert data["totals"]["calls"] == 1


def test_precompute_waste_and_cache_hits(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.script(Reply("draft", input_tokens=1_000, output_tokens=100), model="claude-haiku-5-5")
    reg = reg_for(repo)
    run("commit_message", reg, repo, DAY, source="daemon", cache_key="diff-1")
    cache = report(repo, capsys)["cache"]
    assert cache["precompute"] == {
        "drafts": 1,
        "used": 0,
        "unused": 1,
        "cost_micros": 150,
        "waste_micros": 150,
    }
    db = ledger.connect()
    db.execute(
        "INSERT INTO attempts (ts, day, repo, source, request_id, attempt, task, tier, provider, outcome, cache_key)"
        " VALUES (?, '2026-11-20', ?, 'hook', 'r2', 1, 'commit_message', 'fast', 'anthropic', 'cache_hit', 'diff-1')",
        (DAY.isoformat(), str(repo)),
    )  # the daemon's cache-hit row (the daemon writes these; not built yet in this branch)
    db.close()
    data = report(repo, capsys)
    assert data["cache"]["hits"] == 1 and data["cache"]["precompute"]["waste_micros"] == 0


def test_period_flags_conflict(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spend", "--today", "--days", "3"]) == 2
    assert "choose one of --today, --days" in capsys.readouterr().err
    assert main(["spend", "--date", "Nov 20"]) == 2
    assert "--date: expected a date as YYYY-MM-DD" in capsys.readouterr().err


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.svgs: dict[str, int] = {}
        self.external = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a["id"] or "")
        if tag == "svg":
            self.svgs[self.sections[-1]] = self.svgs.get(self.sections[-1], 0) + 1
        if tag in ("script", "link", "img") or (a.get("src") or "").startswith("http"):
            self.external += 1


def test_html_page_has_one_chart_per_section(
    busy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "spend.html"
    assert main(["spend", *SINCE, "--html", str(page)]) == 0
    parser = _Page()
    parser.feed(page.read_text())
    assert parser.sections == ["groups", "days", "savings", "escalation", "cache", "budget"]
    assert parser.svgs == dict.fromkeys(parser.sections, 1)
    assert parser.external == 0


def _pinned(data: dict[str, Any]) -> dict[str, Any]:
    """Latency and today's budget vary run to run; everything else is fixed by the stub."""
    data = copy.deepcopy(data)
    for g in data["tiers"] + data["groups"]:
        g["latency_p50_ms"] = g["latency_p95_ms"] = 7
    data["budget"] = reports.budget_status({"fast": 300}, 10_000_000, 2_000_000, {"deep": 5_000_000}, "step_down",
                                           dt.date(2026, 11, 21))  # fmt: skip
    return data


def test_golden_table_and_json(busy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _pinned(report(busy, capsys))
    out = io.StringIO()
    terminal.render(data, out, width=120, color=False)
    golden("spend_table.txt", out.getvalue())
    golden("spend.json", json.dumps(data, indent=2, sort_keys=True) + "\n")
    assert html.render(data).startswith("<!DOCTYPE html>")


def _strip_latency(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.items() if not k.startswith("latency")} for g in groups]


def test_rollups_agree_with_the_rows_after_updates_and_deletes(busy: Path) -> None:
    """Day ranges read trigger-kept rollups; a time window reads rows: both must agree."""
    db = ledger.connect()
    rolled = reports.Scope(dt.date(2026, 11, 19), dt.date(2026, 11, 21))
    raw = reports.Scope(rolled.since, rolled.until, ts_from="2000", ts_to="3000")
    assert rolled.sources().bucketed and not raw.sources().bucketed

    def same() -> None:
        for repo in (None, str(busy)):
            r1 = reports.Scope(rolled.since, rolled.until, repo)
            r2 = reports.Scope(raw.since, raw.until, repo, raw.ts_from, raw.ts_to)
            a, b = reports.spend_report(db, r1, "task"), reports.spend_report(db, r2, "task")
            assert (
                a["totals"] == b["totals"] and a["escalation"] == b["escalation"] and a["days"] == b["days"]
            )
            assert _strip_latency(a["groups"]) == _strip_latency(b["groups"])
            assert _strip_latency(a["tiers"]) == _strip_latency(b["tiers"])
            assert a["totals"]["calls"] > 0

    same()
    db.execute(
        "UPDATE attempts SET cost_micros = cost_micros + 1000, tier = 'deep' WHERE task = 'commit_message'"
    )
    same()
    db.execute("DELETE FROM attempts WHERE outcome = 'check_failed'")
    same()
    db.close()


def test_the_escalation_warning_says_when_the_provider_failed_not_the_router(
    stub: StubAPI, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outage escalates every request: the warning says the first links failed with
    provider errors, so nobody retunes the router for it."""
    from stub_api import Fault

    monkeypatch.setenv("CODETIER_ANTHROPIC__MAX_RETRIES", "0")
    stub.script(Fault(529), model="claude-sonnet-5-5", times=2)
    stub.script(Reply("answer", input_tokens=10, output_tokens=10), model="claude-sonnet-5-5")
    stub.script(Reply("answer", input_tokens=10, output_tokens=10), model="claude-opus-5-5", times=None)
    for _ in range(2):
        assert run("explain", reg_for(repo), repo).link.tier == "deep"
    run("explain", reg_for(repo), repo, reject_first=1)  # a failed check, for contrast
    assert main(["spend", "--date", DAY.date().isoformat(), "--json"]) == 0
    esc = json.loads(capsys.readouterr().out)["escalation"]
    assert esc["failed_first"] == {"check_failed": 1, "provider_error": 2, "budget_refused": 0}
    assert main(["spend", "--date", DAY.date().isoformat()]) == 0
    text = " ".join(capsys.readouterr().out.split())  # as wrapped to the terminal's width
    assert (
        "above 10%: explain 100%; first links that failed: 2 provider or network errors, 1 failed check"
        in text
    )
