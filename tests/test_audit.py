"""`codetier audit` over transcripts written in Claude Code's shape."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from audit_support import audit, by_model, prompt_line, usage_line, write

from codetier import ledger
from codetier.audit.lines import storable
from codetier.cli import main
from codetier.ledger.keyruns import IMPORTED, PROMPT, USAGE, KeyRuns, key_hash


def test_per_day_and_model_dedup_and_prices(claude: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = audit(capsys)
    rows = by_model(data)
    assert set(rows) == {("2026-11-20", "claude-opus-5"), ("2026-11-21", "claude-sonnet-5"),
                         ("2026-11-21", "claude-haiku-4-5"), ("2026-11-21", "claude-opus-5")}  # fmt: skip
    m1 = rows[("2026-11-20", "claude-opus-5")]
    assert (m1["entries"], m1["input_tokens"], m1["cache_creation_tokens"], m1["cache_read_tokens"]) == (
        1, 1_000, 4_000, 50_000)  # fmt: skip
    # opus-5: 1000 x 5 + 200 x 25 + 3000 x 6.25 (5m) + 1000 x 10 (1h) + 50000 x 0.5 micros
    assert m1["cost_micros"] == 5_000 + 5_000 + 18_750 + 10_000 + 25_000
    assert rows[("2026-11-21", "claude-sonnet-5")]["cost_micros"] == 3_000 * 2 + 1_000 * 10 + 2_000 * 2.5
    scan = data["scan"]
    assert scan["malformed"] == 3  # the null field, the truncated line, the non-JSON line
    assert scan["duplicates"] == 2 and scan["files"] == 2


def test_prompts_are_routed_and_priced_at_their_tier(
    claude: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = audit(capsys)
    prompts = {p["task"]: p["tier"] for p in data["routing"]["prompts"]}
    assert prompts == {"format_fix": "tool", "architecture": "deep", "test_writing": "balanced"}
    m1 = by_model(data)[("2026-11-20", "claude-opus-5")]
    # format_fix is tool tier: priced at the fast model (haiku-5-5), cache reads as cache reads.
    assert m1["routed_cost_micros"] == round(
        1_000 * 0.10 + 200 * 0.5 + 3_000 * 0.125 + 1_000 * 0.2 + 50_000 * 0.01
    )
    chores = data["expensive_chores"]
    assert chores["model"] == "claude-opus-5"
    assert [(c["task"], c["tier"]) for c in chores["chores"]] == [
        ("format_fix", "tool"),
        ("test_writing", "balanced"),
    ]


def test_repeat_run_reads_only_what_was_appended(claude: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = audit(capsys)
    again = audit(capsys)
    assert again["scan"]["bytes"] == 0 and again["scan"]["new_entries"] == 0
    assert again["totals"] == first["totals"]
    main_file = claude / "projects" / "-work-app" / "sess-1.jsonl"
    size = main_file.stat().st_size
    extra = usage_line("m7", "r7", "claude-haiku-4-5", "2026-11-21T10:00:00Z", 1, 1)
    write(main_file, [extra, json.dumps(extra)[:20]], mode="a")  # the last line is still being written
    third = audit(capsys)
    assert third["scan"]["new_entries"] == 1
    assert third["scan"]["bytes"] == len(json.dumps(extra, separators=(",", ":"))) + 1
    assert third["totals"]["entries"] == first["totals"]["entries"] + 1
    assert main_file.stat().st_size > size


def test_since_filters_days(claude: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert [d["day"] for d in audit(capsys, "--since", "2026-11-21")["daily"]] == ["2026-11-21"]


def test_import_is_idempotent_and_shows_in_spend(claude: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit(capsys, "--import")["imported"] == 4
    assert audit(capsys, "--import")["imported"] == 0
    db = ledger.connect()
    rows = db.execute("SELECT source, tier, model FROM attempts ORDER BY ts").fetchall()
    db.close()
    assert len(rows) == 4 and {r[0] for r in rows} == {"claude-code"}
    assert main(["spend", "--since", "2026-11-20", "--until", "2026-11-21", "--by", "source", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert [g["key"] for g in groups] == ["claude-code"] and groups[0]["calls"] == 4


def test_default_location_and_explicit_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = Path(os.environ["HOME"])
    write(home / ".claude" / "projects" / "p" / "s.jsonl",
          [usage_line("a", "b", "claude-haiku-4-5", "2026-11-20T10:00:00Z", 7, 7)])  # fmt: skip
    assert audit(capsys)["totals"]["input_tokens"] == 7
    other = tmp_path / "elsewhere" / "s.jsonl"
    write(other, [usage_line("c", "d", "claude-haiku-4-5", "2026-11-20T10:00:00Z", 5, 5)])
    assert audit(capsys, str(other))["scan"]["new_entries"] == 1


def test_nothing_to_read_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 2
    assert "no Claude Code transcripts found" in capsys.readouterr().err


def test_terminal_report(claude: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "claude-opus-5" in out and "3 malformed lines skipped" in out
    assert "chores that ran on claude-opus-5" in out


def test_a_later_replay_of_an_old_message_adds_nothing(
    claude: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = audit(capsys)
    replay = usage_line("m1", "r1", "claude-opus-5", "2026-11-20T10:00:01Z", 1_000, 200, cw=4_000, cw_1h=1_000,
                        cr=50_000, side=True)  # fmt: skip
    new = usage_line("m9", "r9", "claude-opus-5", "2026-11-21T11:00:00Z", 10, 10, side=True)
    write(claude / "projects" / "-work-app" / "sess-1" / "subagents" / "agent-b.jsonl", [replay, new])
    again = audit(capsys)
    assert again["scan"]["new_entries"] == 1 and again["scan"]["duplicates"] == 1
    assert again["totals"]["entries"] == first["totals"]["entries"] + 1
    db = ledger.connect()
    keys = len(KeyRuns(db, USAGE))
    db.close()
    assert keys == again["totals"]["entries"]


def test_an_old_message_and_prompt_replayed_in_two_new_files_are_taken_back_once_each(
    claude: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = audit(capsys)
    replay = usage_line("m1", "r1", "claude-opus-5", "2026-11-20T10:00:01Z", 1_000, 200, cw=4_000, cw_1h=1_000,
                        cr=50_000, side=True)  # fmt: skip
    old_prompt = prompt_line("write unit tests for the parser", "2026-11-21T09:01:00Z", "u3")
    agents = claude / "projects" / "-work-app" / "sess-1" / "subagents"
    write(agents / "agent-b.jsonl", [old_prompt, replay])
    new = usage_line("m9", "r9", "claude-opus-5", "2026-11-21T11:00:00Z", 10, 10, side=True)
    write(agents / "agent-c.jsonl", [old_prompt, replay, new])
    again = audit(capsys)
    assert again["scan"]["new_entries"] == 1 and again["scan"]["duplicates"] == 2
    assert again["totals"]["entries"] == first["totals"]["entries"] + 1
    assert again["totals"]["input_tokens"] == first["totals"]["input_tokens"] + 10
    assert again["routing"]["prompts"] == first["routing"]["prompts"]  # u3 counted once, as before
    db = ledger.connect()
    keys, prompts = len(KeyRuns(db, USAGE)), len(KeyRuns(db, PROMPT))
    db.close()
    assert keys == again["totals"]["entries"] and prompts == 3


def test_lone_surrogates_in_ids_and_names_are_audited_and_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # JSON may escape half of a UTF-16 pair ("\\ud800"); Python decodes it to a lone
    # surrogate, which UTF-8 (and SQLite's text) cannot hold.
    odd = "\ud800"
    line = usage_line(f"m{odd}", "r1", f"claude-opus-5{odd}", "2026-11-20T10:00:01Z", 10, 5)
    line.update(sessionId=f"s{odd}", cwd=f"/w{odd}")
    prompt = prompt_line(f"write tests {odd}", "2026-11-20T10:00:00Z", f"u{odd}")
    root = tmp_path / "projects"
    write(root / "-w" / "s.jsonl", [prompt, line])  # json.dumps escapes it as "\\ud800"
    data = audit(capsys, "--import", str(root))
    assert data["totals"]["entries"] == 1 and data["imported"] == 1
    assert [m["model"] for d in data["daily"] for m in d["models"]] == ["claude-opus-5\ufffd"]
    assert sum(p["prompts"] for p in data["routing"]["prompts"]) == 1
    db = ledger.connect()
    row = db.execute("SELECT request_id, session, repo FROM attempts").fetchone()
    db.close()
    assert row == ("m\ufffd:r1", "s\ufffd", "/w\ufffd")
    again = audit(capsys, "--import", str(root))  # the same keys: nothing new
    assert again["scan"]["new_entries"] == 0 and again["imported"] == 0
    assert storable("é 😀 \udc00x") == "é 😀 \ufffdx" and storable(None) is None  # pairs kept


def test_a_model_with_no_price_and_a_lone_surrogate_is_named_alike_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "projects"
    write(root / "-w" / "s.jsonl", [usage_line("m1", "r1", "acme-\ud800", "2026-11-20T10:00:01Z", 10, 5)])
    data = audit(capsys, str(root))
    assert data["scan"]["unpriced_models"] == ["acme-\ufffd"]
    assert [m["model"] for d in data["daily"] for m in d["models"]] == ["acme-\ufffd"]
    assert main(["audit", str(root)]) == 0  # the terminal report too
    assert "acme-\ufffd" in capsys.readouterr().out


def test_import_after_plain_runs_reads_the_rows_again(
    claude: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit tables keep keys and sums only: `--import` reads the transcripts again
    for the entries not imported yet, and only those."""
    plain = audit(capsys)
    write(claude / "projects" / "-work-app" / "later.jsonl",
          [usage_line("m7", "r7", "claude-opus-5", "2026-11-21T12:00:00Z", 5, 5)])  # fmt: skip
    assert audit(capsys, "--import")["imported"] == plain["totals"]["entries"] + 1
    assert audit(capsys, "--import")["imported"] == 0
    db = ledger.connect()
    (n,) = db.execute("SELECT COUNT(*) FROM attempts WHERE source = 'claude-code'").fetchone()
    db.close()
    assert n == plain["totals"]["entries"] + 1


def test_m005_and_m006_keep_the_keys_and_import_flags_of_an_older_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codetier.ledger import db as ledger_db

    path = tmp_path / "old.db"
    names = [name for name, _ in ledger_db.MIGRATIONS]
    monkeypatch.setattr(ledger_db, "MIGRATIONS", ledger_db.MIGRATIONS[: names.index("m005_audit_keys")])
    old = ledger.connect(path)
    row = (
        "2026-11-20T10:00:00+00:00",
        "2026-11-20",
        "s",
        "/p",
        "claude-opus-5",
        0,
        1,
        2,
        3,
        0,
        4,
        50,
        "fix",
        "fast",
        5,
    )
    old.executemany(
        "INSERT INTO audit_usage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [("m1:r1", *row, 1), ("m2:r2", *row, 0)],
    )
    old.execute(
        "INSERT INTO audit_prompts VALUES ('u1', '2026-11-20T10:00:00+00:00', '2026-11-20', 's', '/p', 'fix', 'fast')"
    )
    old.close()
    monkeypatch.undo()
    db = ledger.connect(path)
    try:
        usage, imported, prompts = (KeyRuns(db, kind) for kind in (USAGE, IMPORTED, PROMPT))
        assert (len(usage), len(imported), len(prompts)) == (2, 1, 1)
        assert key_hash("m1:r1") in usage and key_hash("m2:r2") in usage
        assert key_hash("m1:r1") in imported and key_hash("m2:r2") not in imported
        assert key_hash("u1") in prompts
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not tables & {"audit_usage", "audit_prompts", "audit_keys", "audit_prompt_keys"}
    finally:
        db.close()


def test_days_are_local_in_a_zone_offset_by_half_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Local midnight at 18:30 UTC falls inside an hour: that hour's entries are dated one by one."""
    monkeypatch.setenv("TZ", "XST-5:30")  # POSIX for UTC+5:30
    time.tzset()
    try:
        lines = [
            usage_line("a", "ra", "claude-opus-5", "2026-11-20T18:15:00Z", 1, 1),  # 23:45 local
            usage_line("b", "rb", "claude-opus-5", "2026-11-20T18:45:00Z", 2, 2),  # 00:15 local, next day
            usage_line("c", "rc", "claude-opus-5", "2026-11-20T20:00:00Z", 4, 4),  # 01:30 local
        ]
        write(tmp_path / "claude" / "projects" / "-p" / "s.jsonl", lines)
        data = audit(capsys, str(tmp_path / "claude"))
    finally:
        monkeypatch.undo()
        time.tzset()
    days = {(d["day"], m["input_tokens"]) for d in data["daily"] for m in d["models"]}
    assert days == {("2026-11-20", 1), ("2026-11-21", 6)}


@pytest.mark.parametrize("zone", ["UTC0", "XST-5:30", "YST+10"])
def test_timestamps_at_the_edges_of_the_calendar_do_not_crash(
    zone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        lines = [
            usage_line("a", "ra", "claude-opus-5", "0001-01-01T00:00:00Z", 1, 1),
            usage_line("b", "rb", "claude-opus-5", "9999-12-31T23:59:59Z", 2, 2),
            usage_line("c", "rc", "claude-opus-5", "2026-11-20T12:00:00Z", 4, 4),
        ]
        write(tmp_path / "claude" / "projects" / "-p" / "s.jsonl", lines)
        data = audit(capsys, str(tmp_path / "claude"))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert data["totals"]["entries"] == 3 and data["totals"]["input_tokens"] == 7
    assert "2026-11-20" in {d["day"] for d in data["daily"]}


def test_a_token_count_past_64_bits_is_one_malformed_line(
    claude: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, the count reached the 64-bit sums and the audit stopped with an internal error."""
    before = audit(capsys)
    write(claude / "projects" / "-work-app" / "huge.jsonl",
          [usage_line("mh", "rh", "claude-opus-5", "2026-11-21T10:00:00Z", 10**20, 5),
           usage_line("mk", "rk", "claude-opus-5", "2026-11-21T10:00:01Z", 10, 5)])  # fmt: skip
    after = audit(capsys)
    assert after["scan"]["malformed"] == 1  # this run read only the new file
    assert after["scan"]["new_entries"] == 1
    assert after["totals"]["input_tokens"] == before["totals"]["input_tokens"] + 10
