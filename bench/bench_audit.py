"""`codetier audit` against ccusage on the same transcripts: speed, memory, agreement.

    python bench/gen_transcripts.py /tmp/tr500 --mb 500
    npm install --prefix /tmp/ccbench ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24
    python bench/bench_audit.py /tmp/tr500 --ccusage /tmp/ccbench/node_modules/.bin/ccusage

Runs, in order: both tools' first runs (codetier from a fresh ledger), a
comparison of per-day/model tokens and cost, then appends 1% more data and
times both repeat runs and compares again (with --daemon, codetier's repeat once more
with `codetier daemon` running, which then answers it). The two tools' runs are
taken in turns, the order alternating, so that the drift of a shared machine
falls on both alike. Wall time, CPU time and the peak
RSS of the whole process tree (codetier's worker pool included) are printed.
Both tools group days in UTC here (TZ=UTC). The 1% is appended in place
(gen_transcripts.py --append-pct), so regenerate the data before a second bench
(and `sync` after writing or copying 500 MB: pending writeback slows every fsync).

Each timing is the best of --runs (default 3), for both tools alike, since the
machine may be shared: every codetier first run starts from an empty ledger,
and every codetier repeat from a copy of the ledger its first run left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _tree_rss(root: int) -> int:
    """Resident KB of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            status = Path(f"/proc/{d}/status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(d)] = int(line.split()[1])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall s, cpu s of the tree, peak tree RSS MB, stdout)."""
    t0 = time.perf_counter()
    before = os.times()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def poll() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0  # before the join: the poller may be in its sleep
    poller.join()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, cpu, peak[0] // 1024, out


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    mine = {(d["day"], m["model"]): m for d in ours["daily"] for m in d["models"]}
    cc = {(d["period"], m["modelName"]): m for d in theirs["daily"] for m in d["modelBreakdowns"]}
    pairs = [
        ("input_tokens", "inputTokens"),
        ("output_tokens", "outputTokens"),
        ("cache_creation_tokens", "cacheCreationTokens"),
        ("cache_read_tokens", "cacheReadTokens"),
    ]
    token_diffs = sum(1 for k in mine if k in cc for a, b in pairs if mine[k][a] != cc[k][b])
    worst, unpriced = 0.0, set()
    for k, m in mine.items():
        c = cc.get(k)
        if c is None:
            continue
        if c.get("missingPricing"):
            unpriced.add(k[1])
            continue
        worst = max(worst, abs(m["cost_micros"] / 1e6 - c["cost"]) / max(c["cost"], 1e-9))
    only = set(mine) ^ set(cc)
    line = (
        f"{len(mine)} day/model rows vs ccusage's {len(cc)} ({len(only)} unmatched); token fields differing:"
        f" {token_diffs}; worst cost difference on models ccusage prices: {worst * 100:.4f}%"
    )
    if unpriced:
        line += f"; ccusage has no offline price for {', '.join(sorted(unpriced))} (tokens compared only)"
    return line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--ccusage", default="/tmp/ccbench/node_modules/.bin/ccusage")
    ap.add_argument("--append-pct", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3, help="time each run this many times; print the best")
    ap.add_argument("--daemon", action="store_true", help="also time the repeat run with the daemon up")
    a = ap.parse_args()
    size = sum(f.stat().st_size for f in (a.dir / "projects").rglob("*.jsonl"))
    home = tempfile.mkdtemp(prefix="audit-bench-")
    env = {**os.environ, "TZ": "UTC", "CLAUDE_CONFIG_DIR": str(a.dir), "CODETIER_HOME": home}
    # As installed: with bytecode caches (kept out of the tree), not recompiling every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "codetier-bench-pycache"))
    warm = "import codetier.cli, codetier.cli.audit, codetier.audit.ingest, codetier.audit.report"
    subprocess.run([sys.executable, "-c", warm], env=env, check=True)
    cc_cmd = [a.ccusage, "daily", "--json", "--offline", "--breakdown"]
    ct_cmd = [str(Path(sys.executable).with_name("codetier")), "audit", "--json"]
    print(f"transcripts: {size / 1e6:.0f} MB in {a.dir}; {os.cpu_count()} cores; best of {a.runs} runs")
    ledger = Path(home) / "ledger.db"

    def summary(label: str, results: list[tuple[float, float, int, str]]) -> dict[str, Any]:
        wall, cpu, _, out = min(results)
        walls = ", ".join(f"{r[0]:.2f}" for r in results)
        peak = max(r[2] for r in results)
        print(f"  {label:16} {wall:7.2f} s wall  {cpu:7.2f} s cpu  peak RSS {peak:5d} MB  (runs: {walls})")
        return {"wall": wall, "data": json.loads(out)}

    def best(label: str, cmd: list[str], before: Any = None) -> dict[str, Any]:
        results = []
        for _ in range(a.runs):
            if before:
                before()
            results.append(measure(cmd, env))
        return summary(label, results)

    def in_turns(what: str, before: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """ccusage's and codetier's runs of `what` taken in turns, the order alternating, so
        that the machine's drift (it is shared) falls on both tools alike."""
        theirs: list[tuple[float, float, int, str]] = []
        ours: list[tuple[float, float, int, str]] = []
        for i in range(a.runs):
            for tool in ("ccusage", "codetier") if i % 2 == 0 else ("codetier", "ccusage"):
                if tool == "ccusage":
                    theirs.append(measure(cc_cmd, env))
                else:
                    before()
                    ours.append(measure(ct_cmd, env))
        return summary(f"ccusage {what}", theirs), summary(f"codetier {what}", ours)

    def fresh_ledger() -> None:
        for f in Path(home).glob("ledger.db*"):
            f.unlink()

    def first_ledger() -> None:
        fresh_ledger()
        shutil.copy(Path(home) / "first.db", ledger)
        os.sync()  # a user's ledger is on disk, not a fresh copy its first fsync must flush

    runs: dict[str, dict[str, Any]] = {}
    runs["ccusage first"], runs["codetier first"] = in_turns("first", fresh_ledger)
    print("  agreement:", compare(runs["codetier first"]["data"], runs["ccusage first"]["data"]))
    ratio = runs["codetier first"]["wall"] / runs["ccusage first"]["wall"]
    print(f"  first run: codetier / ccusage = {ratio:.2f}x (goal <= 1.5)")
    subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; sqlite3.connect(sys.argv[1]).close()", str(ledger)]
    )
    shutil.copy(ledger, Path(home) / "first.db")  # closed cleanly above: no -wal left behind
    subprocess.run(
        [sys.executable, str(HERE / "gen_transcripts.py"), str(a.dir), "--append-pct", str(a.append_pct)],
        check=True,
    )
    runs["ccusage repeat"], runs["codetier repeat"] = in_turns("repeat", first_ledger)
    print("  agreement:", compare(runs["codetier repeat"]["data"], runs["ccusage repeat"]["data"]))
    speedup = runs["ccusage repeat"]["wall"] / runs["codetier repeat"]["wall"]
    print(f"  repeat run: ccusage / codetier = {speedup:.1f}x (goal >= 10)")
    if a.daemon:
        by_daemon(ct_cmd, env, best, first_ledger, runs["ccusage repeat"]["wall"])
    return 0


def by_daemon(ct_cmd: list[str], env: dict[str, str], best: Any, first_ledger: Any, theirs: float) -> None:
    """The repeat run again with `codetier daemon` running, which answers it (see
    daemon/methods.py: audit). Its first answer imports the audit modules: not timed."""
    codetier = ct_cmd[0]
    subprocess.run([codetier, "daemon", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        first_ledger()
        subprocess.run(ct_cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        ours = best("codetier, daemon", ct_cmd, first_ledger)
        status = subprocess.run(
            [codetier, "daemon", "status", "--json"], env=env, check=True, capture_output=True, text=True
        )
        info = json.loads(status.stdout)
        with open(f"/proc/{info['pid']}/status") as f:
            peak = next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))
        print(f"  the daemon answered {info['audits']} audits; its own peak RSS {peak} MB")
        print(f"  repeat run, daemon: ccusage / codetier = {theirs / ours['wall']:.1f}x (goal >= 10)")
    finally:
        subprocess.run([codetier, "daemon", "stop"], env=env, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    raise SystemExit(main())
