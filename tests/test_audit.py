"""`codetier audit` over transcripts written in Claude Code's shape."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codetier import ledger
from codetier.audit.lines import storable
from codetier.cli import main
from codetier.ledger.keyruns import IMPORTED, PROMPT, USAGE, KeyRuns, key_hash


def usage_line(
    mid: str | None, rid: str | None, model: str, ts: str, n_in: int, n_out: int | None, **kw: Any
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": n_in,
        "output_tokens": n_out,
        "cache_creation_input_tokens": kw.get("cw", 0),
        "cache_read_input_tokens": kw.get("cr", 0),
    }
    if "cw_1h" in kw:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": kw.get("cw", 0) - kw["cw_1h"],
                                   "ephemeral_1h_input_tokens": kw["cw_1h"]}  # fmt: skip
    line: dict[str, Any] = {
        "type": "assistant",
        "timestamp": ts,
        "sessionId": "sess-1",
        "isSidechain": kw.get("side", False),
        "cwd": "/work/app",
        "version": "2.1.0",
        "message": {
            "id": mid,
            "model": model,
            "role": "assistant",
            "usage": usage,
            "content": [{"type": "text", "text": "ok"}],
        },
    }
    if rid is not None:
        line["requestId"] = rid
    return line


def prompt_line(text: str, ts: str, uuid: str) -> dict[str, Any]:
    return {"type": "user", "timestamp": ts, "sessionId": "sess-1", "uuid": uuid, "cwd": "/work/app",
            "message": {"role": "user", "content": text}}  # fmt: skip


def write(path: Path, lines: list[Any], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as f:
        for line in lines:
            f.write(line if isinstance(line, str) else json.dumps(line, separators=(",", ":")) + "\n")


@pytest.fixture
def claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config dir with a session, its subagent file and the quirks ccusage handles."""
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"  # days are local dates, as in ccusage: pin the zone
    time.tzset()
    root = tmp_path / "claude"
    project = root / "projects" / "-work-app"
    opus = usage_line(
        "m1", "r1", "claude-opus-5", "2026-11-20T10:00:01Z", 1_000, 200, cw=4_000, cw_1h=1_000, cr=50_000
    )
    write(
        project / "sess-1.jsonl",
        [
            prompt_line("reformat this file with ruff", "2026-11-20T10:00:00Z", "u1"),
            opus,
            opus,  # the same usage repeated on the next content-block line
            {
                "type": "user",
                "timestamp": "2026-11-20T10:00:02Z",
                "message": {"role": "user", "content": [{"type": "tool_result", "content": "done"}]},
            },
            usage_line("m2", "r2", "claude-opus-5", "2026-11-20T10:00:03Z", 10, None),  # null field: skipped
            usage_line("m3", "r3", "<synthetic>", "2026-11-20T10:00:04Z", 10, 10),  # not usage
            '{"type":"assistant","message":{"usage":{"input_tokens":\n',  # malformed
            "not json at all\n",
            prompt_line("design the architecture of the plugin system", "2026-11-21T09:00:00Z", "u2"),
            usage_line("m4", "r4", "claude-sonnet-5", "2026-11-21T09:00:05Z", 3_000, 1_000, cw=2_000),
            usage_line("m5", None, "claude-haiku-4-5", "2026-11-21T09:00:06Z", 100, 10),
        ],
    )
    # A subagent file replays m1 as a sidechain (one copy kept) and adds its own call.
    write(
        project / "sess-1" / "subagents" / "agent-a.jsonl",
        [
            prompt_line("write unit tests for the parser", "2026-11-21T09:01:00Z", "u3"),
            usage_line(
                "m1",
                "r1",
                "claude-opus-5",
                "2026-11-20T10:00:01Z",
                1_000,
                200,
                cw=4_000,
                cw_1h=1_000,
                cr=50_000,
                side=True,
            ),
            usage_line("m6", "r6", "claude-opus-5", "2026-11-21T09:01:05Z", 500, 500, side=True),
        ],
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    yield root
    if old_tz is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old_tz
    time.tzset()


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["audit", "--json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def by_model(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["day"], m["model"]): m for d in data["daily"] for m in d["models"]}


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


@pytest.mark.parametrize(
    ("text", "word"),
    [("latest tests", "test"), ("testing, test.", "test"), ("a test", "test"), ("test_x test", "test"),
     ("x_test", "test"), ("test2", "test"), ("étest", "test"), ("test é", "test"), ("", "test"),
     ("cross-module", "cross-module"), ("across-modules", "cross-module"), ("a  b", ""), ("ab", ""),
     ("the production db", "production"), ("preproduction", "production")],
)  # fmt: skip
def test_has_word_agrees_with_the_regex(text: str, word: str) -> None:
    import re

    from codetier.audit.classify import has_word

    assert has_word(text, word) == bool(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text))


@pytest.mark.parametrize(
    "text",
    [
        "reformat this file with ruff",
        "write a commit message",
        "release changelog and release notes",
        "changelog for release",
        "explain how the tests work",
        "design the architecture of the review tool",
        "debug the flaky test",
        "refactor across modules",
        "hello there",
        "Rename Foo to Bar and update the docstring",
        "write a commit message for the security fix",
        "explain the production migration",
        "delete the debug logging",
        "format the production config",
        "the latest_test build: run pytest-xdist, then tests",
        "no testing here, just a contest",
        "Cross-module refactor of the unit_tests",
        "résumé: explain the déploiement",
        "explain\u2014this",
    ],
)
def test_fast_classifier_agrees_with_the_router(text: str) -> None:
    from codetier import config, registry, router
    from codetier.audit.classify import Classifier

    reg = registry.build(config.load())
    task = router.pick_task(text, reg)[0]
    assert Classifier(reg).task(text) == task
    assert Classifier(reg).route(text) == (task, router.route(text, reg).tier)


@pytest.mark.parametrize("extra", [False, True], ids=["default rules", "odd triggers and risk words"])
def test_fast_classifier_agrees_with_the_router_on_mixed_text(extra: bool) -> None:
    """Triggers run together, split by punctuation (non-ASCII too), underscores, digits and
    letters that fold or lower-case oddly; with triggers the regex path must take (non-ASCII,
    no word in them, spaces at an end) and risk words that are not one plain word."""
    import random

    from codetier import config, registry, router
    from codetier.audit.classify import Classifier

    reg = registry.build(config.load())
    if extra:
        odd = ("\u017ftack", "naïve", "++", " test", "C++", "fix  bug")
        tasks = dict(reg.tasks)
        tasks["explain"] = tasks["explain"]._replace(triggers=tasks["explain"].triggers + odd)
        reg = reg._replace(tasks=tasks, risk_words=(*reg.risk_words, "Prod", "data loss", "naïve", "db!"))
    fast = Classifier(reg)
    assert bool(fast.other) == extra  # the regex path for triggers is exercised
    pieces = [t for task in reg.tasks.values() for t in task.triggers] + list(reg.risk_words)
    pieces += ["_", "-", " ", "  ", "\n", ".", "é", "x", "1", "Test", "REVIEW", "ǅ", "_test", "tests2",
               "\u2014", "\u3002", "\u00a0", "\u212a", "\u017f", "\u0130", "!"]  # fmt: skip
    rnd = random.Random(5)
    for _ in range(300):
        text = "".join(
            rnd.choice(pieces) + rnd.choice(["", " ", "_", "-", "é", "a", "\u2014"])
            for _ in range(rnd.randint(1, 9))
        )
        if not text.strip():
            continue  # not a prompt (the reader skips it), and the router refuses it
        assert fast.route(text) == (router.pick_task(text, reg)[0], router.route(text, reg).tier), text


def test_fast_classifier_routes_the_first_max_chars() -> None:
    from codetier import config, registry, router
    from codetier.audit.classify import MAX_CHARS, Classifier

    reg = registry.build(config.load())
    for text in [
        "x " * (MAX_CHARS // 2 - 2) + "explain the production migration",
        "é" + "x " * MAX_CHARS + "explain",
    ]:
        cut = text[:MAX_CHARS]
        assert Classifier(reg).route(text) == (router.pick_task(cut, reg)[0], router.route(cut, reg).tier)
        assert Classifier(reg).route(text) != (router.pick_task(text, reg)[0], router.route(text, reg).tier)


def test_a_pool_of_processes_gives_the_same_report(
    claude: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from codetier.audit import workers

    serial = audit(capsys)
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "other-home"))
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)
    pooled = audit(capsys)
    assert pooled["daily"] == serial["daily"] and pooled["routing"] == serial["routing"]
    assert pooled["scan"] == serial["scan"]


@pytest.mark.parametrize("batch", [1, 3])
def test_forked_readers_over_many_batches_take_back_repeated_prompts(
    claude: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    batch: int,
) -> None:
    """A resumed session copies its earlier lines (uuids too) into a new file: the copies are
    taken back before the forked readers have sent their sums, which come with their last batch."""
    from codetier.audit import workers

    first = [prompt_line("design the architecture of the plugin system", "2026-11-21T09:00:00Z", "u-shared"),
             usage_line("s1", "rs1", "claude-opus-5", "2026-11-21T09:00:05Z", 7, 7)]  # fmt: skip
    for i in range(12):
        write(claude / "projects" / "-work-app" / f"resumed-{i:02d}.jsonl", first)
    serial = audit(capsys)
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "other-home"))
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(workers, "BATCH", batch)
    forked = audit(capsys)
    assert forked["daily"] == serial["daily"] and forked["routing"] == serial["routing"]
    assert forked["scan"] == serial["scan"]
    assert serial["scan"]["new_prompts"] == 4  # u1, u2, u3 and one copy of u-shared


def test_classifier_constants_match_the_router() -> None:
    from codetier import router
    from codetier.audit import classify

    assert classify.AMBIGUOUS_TASK == router.AMBIGUOUS_TASK
    assert classify.MODEL_TIERS == router.MODEL_TIERS


@pytest.mark.parametrize(
    "tokens", [(0, 0, 0, 0, 0), (1_000, 200, 3_000, 1_000, 50_000), (90_000, 7, 20_000, 5, 1)]
)
def test_fast_cost_matches_pricing(tokens: tuple[int, int, int, int, int]) -> None:
    from codetier import config, pricing, registry
    from codetier.audit.prices import cost

    reg = registry.build(config.load())
    for price in reg.prices:  # long-prompt tiers included (Haiku 5.5 past 100k)
        assert cost(price, *tokens) == pricing.cost_micros(price, pricing.Usage(*tokens))


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


_GOOD = [
    _dump(prompt_line("fix the typo in the readme", "2026-11-20T09:00:00Z", "p1")),
    _dump(usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:01Z", 10, 20, cw=30, cw_1h=5, cr=40)),
    _dump(usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:01Z", 10, 20, cw=30, cw_1h=5, cr=40)),
    _dump(usage_line("m2", "r2", "<synthetic>", "2026-11-20T09:00:02Z", 0, 0)),
    _dump(usage_line(None, None, "claude-opus-5", "2026-11-20T09:00:03Z", 1, 2)),  # keyed by offset
    _dump({"type": "user", "uuid": "t1", "timestamp": "2026-11-20T09:00:04Z",
           "message": {"role": "user", "content": [{"type": "tool_result", "content": "x"}]}}),
    _dump({"type": "user", "timestamp": "2026-11-20T09:00:05Z", "message": {"role": "user", "content": "no uuid"}}),
    _dump({"type": "user", "uuid": "p2", "timestamp": "2026-11-20T09:00:06Z",
           "message": {"role": "user", "content": [{"type": "text", "text": "rename the helper"}, 7]}}),
]  # fmt: skip
_BAD = [
    '{"type":"assistant","message":{"usage":{"input_tokens":12,\n',  # cut short
    " " + _GOOD[1],  # indented: counted as malformed, still read
    "\n",
    "[1, 2]\n",
    '{"message":{"model":"m","usage":{"input_tokens":null,"output_tokens":1}},"timestamp":"2026-11-20T09:00:00Z"}\n',
    '{"message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}},"timestamp":"yesterday"}\n',
    '{"message":"text","type":"user"}\n',
    '{"type":"user","message":{"role":"user","content":"caf\xe9"},"uuid":"p9","timestamp":"2026-11-20T09:00:00Z"}\n',
    'x{"type":"user","message":{"role":"user","content":"a stray byte first"}}\n',  # counted once
    '{"type":"user","uuid":"p8","timestamp":"2026-11-20T09:00:00Z",\n'  # one object over two lines
    '"message":{"role":"user","content":"split"}}\n',
    '{"type":"user","uuid":"p7","timestamp":"2026-11-20T09:00:00Z","message":\n'  # the same, and
    '{"role":"user","content":"split before a brace"}}\n',  # the second line starts with "{"
]


@pytest.mark.parametrize("bad", range(len(_BAD) + 1))
def test_block_decoding_matches_reading_line_by_line(bad: int) -> None:
    """The fast path (a block decoded at once, split around a malformed line) gives the same
    entries and counts as the line-by-line path, wherever the bad line sits."""
    from codetier.audit import lines, parse

    good = _GOOD + _GOOD[1:3]
    for where in (0, 3, len(good)):
        text = good[:where] + _BAD[bad : bad + 1] + good[where:]
        block = "".join(text).encode("utf-8") + (b"\xff\n" if bad == len(_BAD) else b"")
        fast, slow = lines.Progress(), lines.Progress()
        got = parse._block(block, 0, "f", fast, [""], whole=True, count=True)
        want = list(lines.read_lines(block, 0, "f", slow, [""]))
        assert got == want and len(want) >= 3
        assert (fast.malformed, fast.repeats) == (slow.malformed, slow.repeats)
        assert fast.lines == block.count(b"\n")


@pytest.mark.parametrize(
    ("bad", "malformed", "entries"),
    [
        (" " + _GOOD[7], 1, 1),
        (_BAD[-3], 1, 0),
        (_BAD[-2], 2, 0),
        (_BAD[-1], 2, 0),
        ("\n\n", 0, 0),
        ("\r\n \t\n", 0, 0),
        ('{"type":"user","x":' + "[" * 100_000 + "\n", 1, 0),
        ('{"type":"user","x":' + "[" * 100_000 + "]" * 100_000 + "}\n", 1, 0),
    ],
    ids=[
        "indented",
        "stray byte",
        "split object",
        "split before a brace",
        "blank",
        "blank with spaces",
        "nested too deep",
        "nested too deep, closed",
    ],
)
def test_each_odd_line_is_counted_once(bad: str, malformed: int, entries: int) -> None:
    from codetier.audit import lines, parse

    block = "".join([*_GOOD[:2], bad, _GOOD[3]]).encode()
    progress = lines.Progress()
    got = parse._block(block, 0, "f", progress, [""], whole=True, count=True)
    assert (progress.malformed, len(got)) == (malformed, 2 + entries)
    assert progress.lines == block.count(b"\n")


def test_a_block_of_odd_lines_is_read_line_by_line_without_recursing(tmp_path: Path) -> None:
    from codetier.audit import lines, parse

    # Indented, every one: thousands of lines at fault in each 64 KB block.
    text = "".join(" " + (_dump(prompt_line(f"prompt {i}", "2026-11-20T09:00:00Z", f"u{i}")) if i % 100 == 0
                          else '{"type":"user"}\n') for i in range(20_000)).encode()  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_bytes(text)
    fast, slow = lines.Progress(), lines.Progress()
    got = list(parse.read(path, fast))
    assert got == list(lines.read_lines(text, 0, str(path), slow, [""])) and len(got) == 200
    assert (fast.malformed, fast.lines) == (20_000, 20_000)


def test_crlf_lines_take_the_fast_path() -> None:
    from codetier.audit import lines, parse

    block = "".join(line.replace("\n", "\r\n") for line in [*_GOOD[:4], _GOOD[5]]).encode()
    got, n = parse._fast(block, lines.Progress(), [""], whole=True)
    assert n == 5  # decoded whole: no line went the slow way
    assert got == list(lines.read_lines(block, 0, "f", lines.Progress(), [""]))


@pytest.mark.parametrize("chunk", [16, 100, 1 << 16])
def test_reading_in_chunks_shorter_than_a_line_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Blocks end at a newline however the reads fall: a line longer than a read is joined
    whole, and a last line still being written is left for the next run."""
    from codetier.audit import lines, parse

    monkeypatch.setattr(parse, "CHUNK", chunk)
    text = "".join(_GOOD + _BAD[:2] + _GOOD[1:3]).encode()
    path = tmp_path / "t.jsonl"
    path.write_bytes(text + b'{"type":"user","mess')
    fast, slow = lines.Progress(), lines.Progress()
    got = list(parse.read(path, fast))
    assert got == list(lines.read_lines(text, 0, str(path), slow, [""]))
    assert (fast.offset, fast.lines, fast.malformed) == (len(text), text.count(b"\n"), slow.malformed)


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


def test_a_worker_failure_reaches_the_caller_and_writes_nothing(
    claude: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codetier.audit import discover, ingest, reader, workers
    from codetier.cli.common import load

    real = reader.Reader.__call__

    def failing(self: reader.Reader, job: reader.FileJob) -> reader.FileResult:
        if job.path.endswith("agent-a.jsonl"):
            raise PermissionError(f"{job.path}: permission denied")
        return real(self, job)

    monkeypatch.setattr(reader.Reader, "__call__", failing)
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)  # forked workers (they inherit the patch)
    db = ledger.connect()
    try:
        with pytest.raises(PermissionError, match=r"agent-a\.jsonl"):
            ingest.ingest(db, discover.roots(), load()[1])
        assert db.execute("SELECT COUNT(*) FROM audit_key_runs").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM audit_files").fetchone() == (0,)
    finally:
        db.close()


def test_with_other_threads_running_a_spawned_pool_reads_the_same(
    claude: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Forking with other threads running is unsafe: the spawn pool takes over, same report."""
    import threading

    from codetier.audit import workers

    serial = audit(capsys)
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "other-home"))
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    spawned = audit(capsys)
    assert spawned["daily"] == serial["daily"] and spawned["scan"] == serial["scan"]


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
