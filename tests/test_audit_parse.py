"""Reading transcript blocks fast: the same entries and counts as reading line by line."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from audit_support import dump, prompt_line, usage_line

_GOOD = [
    dump(prompt_line("fix the typo in the readme", "2026-11-20T09:00:00Z", "p1")),
    dump(usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:01Z", 10, 20, cw=30, cw_1h=5, cr=40)),
    dump(usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:01Z", 10, 20, cw=30, cw_1h=5, cr=40)),
    dump(usage_line("m2", "r2", "<synthetic>", "2026-11-20T09:00:02Z", 0, 0)),
    dump(usage_line(None, None, "claude-opus-5", "2026-11-20T09:00:03Z", 1, 2)),  # keyed by offset
    dump({"type": "user", "uuid": "t1", "timestamp": "2026-11-20T09:00:04Z",
           "message": {"role": "user", "content": [{"type": "tool_result", "content": "x"}]}}),
    dump({"type": "user", "timestamp": "2026-11-20T09:00:05Z", "message": {"role": "user", "content": "no uuid"}}),
    dump({"type": "user", "uuid": "p2", "timestamp": "2026-11-20T09:00:06Z",
           "message": {"role": "user", "content": [{"type": "text", "text": "rename the helper"}, 7]}}),
]  # fmt: skip


@pytest.fixture(autouse=True, params=["c", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with the C speedups and with the Python code they replace."""
    from codetier.audit import decoded

    if request.param == "python":
        monkeypatch.setattr(decoded, "gap", decoded.py_gap)
        monkeypatch.setattr(decoded, "entries", decoded.py_entries)
    elif decoded.gap is decoded.py_gap:
        pytest.skip("the C speedups are not built here (see test_the_c_speedups_are_built)")
    return str(request.param)


def test_the_counts_before_a_fault_stay_counted() -> None:
    """Both versions count the lines before the one that sends the block the slow way (the
    caller puts the counts back: see parse._block)."""
    from codetier.audit import decoded, lines, parse

    block = (
        dump({"requestId": "r", "message": {"usage": {}}})  # a repeat of "r"
        + dump(usage_line("m1", "r1", "", "2026-11-20T09:00:00Z", 1, 1))  # malformed: no model
        + dump(usage_line("", "r2", "claude-opus-5", "2026-11-20T09:00:01Z", 1, 1))  # no id of its own
    ).encode()
    progress, previous = lines.Progress(), ["r"]
    with pytest.raises(decoded.Slow):
        decoded.entries(parse._LINES(block), previous, progress)
    assert (progress.repeats, progress.malformed, previous) == (1, 1, ["r"])


# Token counts ccusage refuses (negative), or past what the ledger's 64-bit sums hold.
_OUT_OF_RANGE = [
    (-1, 2, {}),
    (2, -1, {}),
    (2**40, 1, {}),
    (2**64, 1, {}),
    (1, 1, {"cr": 2**63}),
    (1, 1, {"cw": -3}),
]
_BAD = [
    '{"type":"assistant","message":{"usage":{"input_tokens":12,\n',  # cut short
    " " + _GOOD[1],  # indented: counted as malformed, still read
    "\n",
    "[1, 2]\n",
    _GOOD[0].strip() + " " + _GOOD[1],  # two objects on one line: malformed to read_lines and ccusage
    *(  # token counts out of range (see test_token_counts_out_of_range_make_the_line_malformed)
        dump(usage_line(f"m{n}", f"r{n}", "claude-opus-5", "2026-11-20T09:00:07Z", n_in, n_out, **kw))
        for n, (n_in, n_out, kw) in enumerate(_OUT_OF_RANGE)
    ),
    '{"message":{"model":"m","usage":{"input_tokens":null,"output_tokens":1}},"timestamp":"2026-11-20T09:00:00Z"}\n',
    '{"message":{"model":"","usage":{"input_tokens":1,"output_tokens":1}},"timestamp":"2026-11-20T09:00:00Z"}\n',
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
        (
            dump(prompt_line("one", "2026-11-20T09:00:00Z", "t1")).strip()
            + " "
            + dump(prompt_line("two", "2026-11-20T09:00:00Z", "t2")),
            1,
            0,
        ),
        (
            dump(prompt_line("one", "2026-11-20T09:00:00Z", "t1")).strip()
            + dump(prompt_line("two", "2026-11-20T09:00:00Z", "t2"))
            + "\n",
            1,
            0,
        ),
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
        "two objects on a line",
        "two objects on a line, then a blank line",
    ],
)
def test_each_odd_line_is_counted_once(bad: str, malformed: int, entries: int) -> None:
    from codetier.audit import lines, parse

    block = "".join([*_GOOD[:2], bad, _GOOD[3]]).encode()
    progress = lines.Progress()
    got = parse._block(block, 0, "f", progress, [""], whole=True, count=True)
    assert (progress.malformed, len(got)) == (malformed, 2 + entries)
    assert progress.lines == block.count(b"\n")


def _read(block: bytes, fast: bool) -> tuple[list[Any], Any]:
    """A block's entries and Progress, by the block decoder or line by line."""
    from codetier.audit import lines, parse

    progress = lines.Progress()
    if fast:
        return parse._block(block, 0, "f", progress, [""], whole=True, count=True), progress
    return list(lines.read_lines(block, 0, "f", progress, [""])), progress


@pytest.mark.parametrize(
    ("n_in", "n_out", "kw"),
    _OUT_OF_RANGE,
    ids=["negative input", "negative output", "2**40", "2**64", "cache reads 2**63", "negative cache writes"],
)
@pytest.mark.parametrize("fast", [True, False], ids=["block", "line by line"])
def test_token_counts_out_of_range_make_the_line_malformed(
    n_in: int, n_out: int, kw: dict[str, int], fast: bool
) -> None:
    """Negative counts (ccusage refuses them) and counts past 2**40 - 1 (the ledger sums
    in 64 bits) are malformed, not an audit that stops; 2**40 - 1 itself is read."""

    bad = dump(usage_line("mx", "rx", "claude-opus-5", "2026-11-20T09:00:07Z", n_in, n_out, **kw))
    edge = dump(usage_line("my", "ry", "claude-opus-5", "2026-11-20T09:00:08Z", 2**40 - 1, 2**40 - 1))
    block = "".join([_GOOD[1], bad, edge]).encode()
    got, progress = _read(block, fast)
    assert progress.malformed == 1
    assert [e.key for e in got] == ["m1:r1", "my:ry"] and got[1].input == 2**40 - 1


@pytest.mark.parametrize("fast", [True, False], ids=["block", "line by line"])
def test_an_empty_model_makes_the_line_malformed(fast: bool) -> None:
    """ccusage 20.0.24 skips a line whose model is "" (a row under no name, before)."""

    block = "".join([_GOOD[1], dump(usage_line("me", "re", "", "2026-11-20T09:00:07Z", 3, 4))]).encode()
    got, progress = _read(block, fast)
    assert (progress.malformed, [e.key for e in got]) == (1, ["m1:r1"])


_ABSENT = object()
# usage.cache_creation_input_tokens, usage.cache_creation, and the (5-minute, 1-hour) cache
# writes ccusage 20.0.24 reads from them, or None where it skips the line: tried on its binary.
_SPLITS = [
    (1_000_000, _ABSENT, (1_000_000, 0)),
    (1_000_000, None, (1_000_000, 0)),
    (1_000_000, {"ephemeral_1h_input_tokens": 1_000_000}, (0, 1_000_000)),
    (1_000_000, {"ephemeral_5m_input_tokens": 300_000, "ephemeral_1h_input_tokens": 400_000}, (300_000, 400_000)),
    (1_000_000, {"ephemeral_1h_input_tokens": 5_000_000}, (0, 5_000_000)),
    (1_000_000, {"ephemeral_5m_input_tokens": 5_000_000}, (5_000_000, 0)),
    (_ABSENT, {"ephemeral_1h_input_tokens": 1_000_000}, (0, 1_000_000)),
    (1_000_000, {}, (0, 0)),
    (1_000_000, {"other": 5}, (0, 0)),
    (1_000_000, 5, None),
    (1_000_000, {"ephemeral_5m_input_tokens": None, "ephemeral_1h_input_tokens": 1_000}, None),
    (1_000_000, {"ephemeral_1h_input_tokens": 1.5}, None),
    (1_000_000, {"ephemeral_1h_input_tokens": "7"}, None),
    (1_000_000, {"ephemeral_1h_input_tokens": -5}, None),
    (1_000_000, [], None),  # ccusage reads [] as no split (0, 0): left malformed here
]  # fmt: skip


@pytest.mark.parametrize(("created", "split", "writes"), _SPLITS, ids=[str(c[1:]) for c in _SPLITS])
@pytest.mark.parametrize("fast", [True, False], ids=["block", "line by line"])
def test_cache_writes_come_from_the_split_when_there_is_one(
    created: Any, split: Any, writes: tuple[int, int] | None, fast: bool
) -> None:
    line = usage_line("mc", "rc", "claude-opus-5", "2026-11-20T09:00:07Z", 3, 4)
    usage = line["message"]["usage"]
    del usage["cache_creation_input_tokens"]
    if created is not _ABSENT:
        usage["cache_creation_input_tokens"] = created
    if split is not _ABSENT:
        usage["cache_creation"] = split
    got, progress = _read("".join([_GOOD[1], dump(line)]).encode(), fast)
    if writes is None:
        assert progress.malformed == 1 and len(got) == 1
    else:
        assert progress.malformed == 0 and (got[1].cache_write_5m, got[1].cache_write_1h) == writes


# Each timestamp, and the day ccusage 20.0.24 gives it (TZ=UTC), or None where it skips the
# line: tried on its binary.
_TIMESTAMPS = [
    ("2026-11-06T22:48:18Z", "2026-11-06"),
    ("2026-11-06T22:48:18.123Z", "2026-11-06"),
    ("2026-11-06T22:48:18.123+05:30", "2026-11-06"),
    ("2026-11-06T22:48:18-08:00", "2026-11-07"),
    ("2026-11-06T22:48:18+00:00", "2026-11-06"),
    ("9999-12-31T23:59:59Z", "9999-12-31"),
    ("2026-11-06T22:48:18.1Z", None),
    ("2026-11-06T22:48:18.123456Z", None),
    ("2026-11-06T22:48:18.123456789Z", None),
    ("2026-11-06 22:48:18Z", None),
    ("2026-11-06T22:48:18", None),
    ("2026-11-06", None),
    ("20261106T224818Z", None),
    ("2026-W45-5T10:00:00Z", None),
    ("2026-11-06T22:48Z", None),
    ("2026-11-06t22:48:18z", None),
    ("2026-11-06T22:48:18+0530", None),
    ("2026-11-06T22:48:18+05", None),
    ("2026-02-30T22:48:18Z", None),
    ("2026-11-06T24:00:00Z", None),
    ("2026-11-06T22:48:60Z", None),
    (" 2026-11-06T22:48:18Z", None),
    ("\u0662026-11-06T22:48:18Z", None),  # an Arabic-Indic digit
]


@pytest.mark.parametrize(("ts", "day"), _TIMESTAMPS, ids=[t for t, _ in _TIMESTAMPS])
@pytest.mark.parametrize("fast", [True, False], ids=["block", "line by line"])
def test_timestamps_are_taken_as_ccusage_takes_them(ts: str, day: str | None, fast: bool) -> None:

    block = "".join([_GOOD[1], dump(usage_line("mt", "rt", "claude-opus-5", ts, 3, 4))]).encode()
    got, progress = _read(block, fast)
    if day is None:
        assert progress.malformed == 1 and len(got) == 1
    else:
        assert progress.malformed == 0 and len(got) == 2
        assert got[1].ts.astimezone(dt.UTC).date().isoformat() == day


def test_a_block_of_odd_lines_is_read_line_by_line_without_recursing(tmp_path: Path) -> None:
    from codetier.audit import lines, parse

    # Indented, every one: thousands of lines at fault in each 64 KB block.
    text = "".join(" " + (dump(prompt_line(f"prompt {i}", "2026-11-20T09:00:00Z", f"u{i}")) if i % 100 == 0
                          else '{"type":"user"}\n') for i in range(20_000)).encode()  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_bytes(text)
    fast, slow = lines.Progress(), lines.Progress()
    with path.open("rb") as f:
        got = list(parse.read(f, fast))
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
    with path.open("rb") as f:
        got = list(parse.read(f, fast))
    assert got == list(lines.read_lines(text, 0, str(path), slow, [""]))
    assert (fast.offset, fast.lines, fast.malformed) == (len(text), text.count(b"\n"), slow.malformed)


# The line breaks _gap finds, as a regex: "\n" then not "{", or after neither "}" nor "\r",
# or after a "\r" that follows no "}".
GAP = re.compile(rb"\n(?:[^{]|(?<=[^}\r]\n)|(?<=[^}]\r\n))")


def test_gap_finds_what_the_regex_finds() -> None:
    from codetier.audit import decoded

    rng = random.Random(6)
    parts = [b"{", b"}", b"\n", b"\r", b"\r\n", b"}\n{", b"}\r\n{", b" ", b"x", b'"a":1']
    blocks = [b"{}\n", b"{}\n{}\n", b"{}\r\n{}\r\n", b"{\n", b"{}\n\n", b"{} \n{}\n", b"{}\n {}\n", b"{}\r\r\n",
              b"\n{}\n", b"\r\n", b"{}", b"{}\n{"]  # fmt: skip
    blocks += [b"{" + b"".join(rng.choices(parts, k=rng.randrange(1, 30))) for _ in range(20_000)]
    for block in blocks:
        want = m.start() if (m := GAP.search(block)) else -1
        newlines = block.count(b"\n", 0, want + 1) if want >= 0 else block.count(b"\n")
        assert decoded.gap(block) == (want, newlines), block
