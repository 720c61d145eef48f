"""Budgets step a task down a tier (deep → balanced → fast) with a warning, or stop."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from spend_support import reg_for, run
from stub_api import Reply, StubAPI

from codetier import ledger
from codetier.cli import main
from codetier.errors import AllAttemptsFailed


def _rows() -> list[tuple[str, str, str | None]]:
    db = ledger.connect()
    try:
        return db.execute("SELECT tier, outcome, reason FROM attempts ORDER BY id").fetchall()
    finally:
        db.close()


def test_deep_cap_steps_down_to_balanced_with_a_warning(stub: StubAPI, repo: Path) -> None:
    (repo / ".codetier.toml").write_text("[budget.tier_daily_usd]\ndeep = 0.01\n")
    stub.script(Reply("plan", input_tokens=100, output_tokens=100), model="claude-sonnet-5-5")
    result = run("architecture", reg_for(repo), repo)
    assert result.link.tier == "balanced"
    assert stub.texts_for("claude-opus-5-5") == []
    assert len(result.warnings) == 1
    assert "deep-tier daily budget reached: deep stepped down to balanced" in result.warnings[0]
    [(tier, outcome, reason)] = _rows()
    assert (tier, outcome) == ("balanced", "ok")
    assert reason is not None and "stepped down" in reason


def test_daily_budget_steps_down_until_a_tier_fits(stub: StubAPI, repo: Path) -> None:
    # max_tokens 2000: deep ~$0.04, balanced ~$0.02, fast ~$0.001 worst case.
    (repo / ".codetier.toml").write_text("[budget]\ndaily_usd = 0.005\n")
    stub.script(Reply("ok", input_tokens=50, output_tokens=50), model="claude-haiku-5-5")
    result = run("architecture", reg_for(repo), repo)
    assert result.link.tier == "fast"
    assert "daily budget reached: deep stepped down to fast" in result.warnings[0]


def test_stop_mode_refuses_as_before(stub: StubAPI, repo: Path) -> None:
    (repo / ".codetier.toml").write_text('[budget]\nmode = "stop"\n[budget.tier_daily_usd]\ndeep = 0.01\n')
    with pytest.raises(AllAttemptsFailed, match="deep-tier daily budget"):
        run("architecture", reg_for(repo), repo)
    assert stub.calls == 0
    assert [r[:2] for r in _rows()] == [("deep", "budget_refused")]


def test_refused_when_no_cheaper_tier_fits(stub: StubAPI, repo: Path) -> None:
    (repo / ".codetier.toml").write_text("[budget]\ndaily_usd = 0.0001\n")
    with pytest.raises(AllAttemptsFailed, match="daily budget"):
        run("architecture", reg_for(repo), repo)
    assert stub.calls == 0


def test_spend_shows_what_remains(stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text(
        "[budget]\ndaily_usd = 5.0\n[budget.tier_daily_usd]\nbalanced = 1.0\n"
    )
    stub.script(Reply("x", input_tokens=10_000, output_tokens=1_000), model="claude-sonnet-5-5")
    import datetime as dt

    run("explain", reg_for(repo), repo, dt.datetime.now(dt.UTC))  # 10k x $2 + 1k x $10 per MTok = $0.03
    assert main(["spend", "--today", "--json"]) == 0
    budget = json.loads(capsys.readouterr().out)["budget"]
    assert budget["mode"] == "step_down"
    assert budget["daily"] == {
        "limit_micros": 5_000_000,
        "spent_micros": 30_000,
        "remaining_micros": 4_970_000,
    }
    assert budget["tiers"]["balanced"]["remaining_micros"] == 970_000
    assert main(["spend", "--today"]) == 0
    assert "$4.97 of $5.00 left today · balanced $0.97 of $1.00" in capsys.readouterr().out


def test_bad_budget_mode_names_file_and_key(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text('[budget]\nmode = "pause"\n')
    assert main(["spend"]) == 2
    err = capsys.readouterr().err
    assert ".codetier.toml" in err and "budget.mode" in err and "step_down, stop" in err


def test_ask_shows_the_step_down_warning(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".codetier.toml").write_text("[budget.tier_daily_usd]\nbalanced = 0.0001\n")
    stub.script(Reply("short answer"), model="claude-haiku-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    out = capsys.readouterr()
    assert out.out == "short answer\n"
    assert "codetier: warning: balanced-tier daily budget reached: balanced stepped down to fast" in out.err


def test_calls_checked_at_once_see_each_other(stub: StubAPI, repo: Path) -> None:
    """Two processes (here two threads, each with its own ledger connection) check the
    deep cap at the same moment: one deep call fits, so only one may run deep; before
    holds, both saw $0 spent and both ran deep."""
    (repo / ".codetier.toml").write_text("[budget.tier_daily_usd]\ndeep = 0.06\n")  # one deep call: ~$0.04
    stub.script(Reply("plan", input_tokens=100, output_tokens=100, delay=1.0), model="claude-opus-5-5")
    stub.script(Reply("plan", input_tokens=100, output_tokens=100), model="claude-sonnet-5-5")
    reg = reg_for(repo)
    results: list[str] = []

    def one() -> None:
        try:
            results.append(run("architecture", reg, repo).link.tier)
        except Exception as e:  # shown by the assert below
            results.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["balanced", "deep"]
    assert len(stub.texts_for("claude-opus-5-5")) == 1
    db = ledger.connect()
    assert db.execute("SELECT COUNT(*) FROM budget_holds").fetchone() == (0,)  # all released
    db.close()


def test_a_hold_left_by_a_dead_process_expires(stub: StubAPI, repo: Path) -> None:
    import datetime as dt
    import time

    from codetier.ledger import holds

    (repo / ".codetier.toml").write_text("[budget.tier_daily_usd]\ndeep = 0.06\n")
    stub.script(Reply("plan", input_tokens=100, output_tokens=100), model="claude-opus-5-5")
    db = ledger.connect()
    day = dt.date(2026, 11, 20)  # spend_support's day
    _, live = holds.checked(db, day, lambda spent: (None, "deep", 50_000), ttl_s=3600)
    assert holds.spent_and_held(db, day) == {"deep": 50_000}
    assert run("architecture", reg_for(repo), repo).link.tier == "balanced"  # the hold counts
    db.execute("UPDATE budget_holds SET expires = ? WHERE id = ?", (time.time() - 1, live))
    db.close()
    assert run("architecture", reg_for(repo), repo).link.tier == "deep"  # expired: gone


def test_a_hold_id_is_never_reused() -> None:
    """A call that outlived its hold releases its own id: never another call's hold."""
    import datetime as dt
    import time

    from codetier.ledger import holds

    db = ledger.connect()
    day = dt.date(2026, 11, 20)
    _, first = holds.checked(db, day, lambda spent: (None, "deep", 1), ttl_s=3600)
    db.execute("UPDATE budget_holds SET expires = ? WHERE id = ?", (time.time() - 1, first))
    _, second = holds.checked(db, day, lambda spent: (None, "deep", 2), ttl_s=3600)  # drops the first
    assert second != first
    with holds.released(db, first):  # the late release of the first call
        pass
    assert holds.spent_and_held(db, day) == {"deep": 2}
    db.close()
