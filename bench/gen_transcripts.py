"""Write Claude Code-shaped transcripts for bench_audit.py.

    python bench/gen_transcripts.py DIR --mb 500          # DIR/projects/<project>/<session>.jsonl
    python bench/gen_transcripts.py DIR --append-pct 1    # grow existing sessions by ~1%

Each session has typed prompts (each one different, as people type them: most
short, some long, now and then a pasted log; about one turn in three starts
with one, the rest carry on from tool results), assistant turns whose usage
repeats on every content-block line (as Claude Code writes it), tool calls
with bulky results,
subagent files under <session>/subagents/ that replay a parent message as a
sidechain, 5m and 1h cache writes, a few malformed lines and <synthetic>
messages. Models are ones whose prices ccusage 20.0.24 knows offline, plus a
small share of 5.5 models it does not price (tokens still compare).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import uuid
from pathlib import Path

MODELS = [
    ("claude-opus-5", 40),
    ("claude-sonnet-5", 30),
    ("claude-haiku-4-5", 15),
    ("claude-opus-4-5", 10),
    ("claude-sonnet-5-5", 5),
]
PROMPTS = [
    "fix the failing test in test_router.py",
    "write a commit message for the staged diff",
    "refactor the config loader across modules",
    "explain how the ledger migrations work",
    "add a docstring to parse_args",
    "reformat this file",
    "debug the race condition in the daemon",
    "design the plugin architecture",
    "review this change for security issues",
    "rename Foo to Bar",
]
FILLER = "lorem ipsum dolor sit amet consectetur " * 40
WORDS = (  # noqa: SIM905 - a list of words reads best as one text
    "the a an to of in for on with and or but not this that it its file files module function class "
    "method test tests error bug fix change code data user api config build run deploy docs readme "
    "should would could please now then also again why how what when where which slow fast timeout "
    "null undefined import export type types cache ledger daemon hook server client request response "
    "review refactor rename format lint commit release explain design debug production migration"
).split()


def prompt_text(rnd: random.Random) -> str:
    """A prompt as people type them, never the same twice: mostly a sentence or two,
    sometimes a paragraph, now and then a pasted log."""
    size = rnd.random()
    n = rnd.randint(3, 30) if size < 0.75 else rnd.randint(30, 150) if size < 0.95 else rnd.randint(150, 1500)
    words = " ".join(rnd.choice(WORDS) for _ in range(n))
    return f"{rnd.choice(PROMPTS)} {words} ({rnd.getrandbits(32):08x})"


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def session_lines(
    rnd: random.Random, sid: str, start: dt.datetime, turns: int, side: bool = False
) -> list[str]:
    out, ts = [], start
    cwd = "/home/dev/src/app"
    for turn in range(turns):
        ts += dt.timedelta(seconds=rnd.randint(5, 300))
        if turn == 0 or rnd.random() < 0.3:  # else the agent carries on from the last tool result
            out.append(
                _dump(
                    {
                        "type": "user",
                        "uuid": str(uuid.UUID(int=rnd.getrandbits(128))),
                        "sessionId": sid,
                        "timestamp": ts.isoformat().replace("+00:00", "Z"),
                        "cwd": cwd,
                        "isSidechain": side,
                        "message": {"role": "user", "content": prompt_text(rnd)},
                    }
                )
            )
        for _ in range(rnd.randint(1, 4)):
            ts += dt.timedelta(seconds=rnd.randint(1, 60))
            model = rnd.choices([m for m, _ in MODELS], weights=[w for _, w in MODELS])[0]
            cw = rnd.choice([0, 0, 2_000, 15_000])
            one_hour = cw // 3 if rnd.random() < 0.3 else 0
            usage = {
                "input_tokens": rnd.randint(1, 3000),
                "output_tokens": rnd.randint(10, 4000),
                "cache_creation_input_tokens": cw,
                "cache_read_input_tokens": rnd.randint(0, 120_000),
                "cache_creation": {
                    "ephemeral_5m_input_tokens": cw - one_hour,
                    "ephemeral_1h_input_tokens": one_hour,
                },
                "service_tier": "standard",
            }
            mid, rid = f"msg_{rnd.getrandbits(64):016x}", f"req_{rnd.getrandbits(64):016x}"
            stamp = ts.isoformat().replace("+00:00", "Z")
            for block in range(rnd.randint(1, 3)):  # the same usage on every content block
                content = (
                    [{"type": "text", "text": FILLER[: rnd.randint(50, 1500)]}]
                    if block == 0
                    else [
                        {
                            "type": "tool_use",
                            "id": f"toolu_{block}",
                            "name": "Read",
                            "input": {"file_path": "x.py"},
                        }
                    ]
                )
                out.append(
                    _dump(
                        {
                            "type": "assistant",
                            "uuid": str(uuid.UUID(int=rnd.getrandbits(128))),
                            "sessionId": sid,
                            "timestamp": stamp,
                            "requestId": rid,
                            "isSidechain": side,
                            "cwd": cwd,
                            "version": "2.1.30",
                            "message": {
                                "id": mid,
                                "model": model,
                                "role": "assistant",
                                "type": "message",
                                "content": content,
                                "usage": usage,
                            },
                        }
                    )
                )
            out.append(
                _dump(
                    {
                        "type": "user",
                        "sessionId": sid,
                        "timestamp": stamp,
                        "isSidechain": side,
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": "t",
                                    "content": FILLER[: rnd.randint(200, 3000)],
                                }
                            ],
                        },
                    }
                )
            )
        if rnd.random() < 0.02:
            out.append('{"type":"assistant","message":{"usage":{"input_tokens":12,\n')  # torn line
        if rnd.random() < 0.02:
            out.append(
                _dump(
                    {
                        "type": "assistant",
                        "timestamp": ts.isoformat(),
                        "sessionId": sid,
                        "message": {
                            "id": "syn",
                            "model": "<synthetic>",
                            "usage": {"input_tokens": 0, "output_tokens": 0},
                        },
                    }
                )
            )
    return out


def write_session(root: Path, rnd: random.Random, project: str, start: dt.datetime, turns: int) -> int:
    sid = str(uuid.UUID(int=rnd.getrandbits(128)))
    lines = session_lines(rnd, sid, start, turns)
    path = root / "projects" / project / f"{sid}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))
    size = path.stat().st_size
    if rnd.random() < 0.3:  # a subagent: replays one parent usage line as a sidechain, then its own work
        replay = next((ln for ln in lines if '"usage"' in ln and '"<synthetic>"' not in ln), None)
        sub = [] if replay is None else [replay.replace('"isSidechain":false', '"isSidechain":true')]
        sub += session_lines(rnd, sid, start + dt.timedelta(minutes=5), max(1, turns // 4), side=True)
        agent = root / "projects" / project / sid / "subagents" / f"agent-{rnd.getrandbits(32):08x}.jsonl"
        agent.parent.mkdir(parents=True, exist_ok=True)
        agent.write_text("".join(sub))
        size += agent.stat().st_size
    return size


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--mb", type=float, default=500)
    ap.add_argument("--append-pct", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    if a.append_pct:
        files = sorted((a.dir / "projects").rglob("*.jsonl"))
        total = sum(f.stat().st_size for f in files)
        goal, added = total * a.append_pct / 100, 0
        rnd = random.Random(a.seed + 1000)
        start = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
        while added < goal:
            f = rnd.choice(files)
            text = "".join(session_lines(rnd, f.stem, start, 3))
            with f.open("a") as out:
                out.write(text)
            added += len(text)
        print(f"appended {added / 1e6:.1f} MB to existing sessions ({added / total * 100:.2f}%)")
        return 0
    goal, written, n = a.mb * 1e6, 0, 0
    first = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    while written < goal:
        project = f"-home-dev-src-app{n % 12}"
        start = first + dt.timedelta(minutes=rnd.randint(0, 50 * 24 * 60))
        written += write_session(a.dir, rnd, project, start, rnd.randint(5, 60))
        n += 1
    print(f"wrote {n} sessions, {written / 1e6:.0f} MB under {a.dir / 'projects'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
