"""Time `codetier spend` over a generated ledger (the target: <= 300 ms for 1,000,000 rows).

    python bench/gen_ledger.py /tmp/spendbench          # once: writes 1,000,000 rows
    python bench/bench_spend.py /tmp/spendbench [--runs 5]

Each case runs the real command in a fresh process (startup and imports
included) and prints the median and worst wall time and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [
    ("default (last 7 days)", []),
    ("--today", ["--today"]),
    ("--days 90 (every row)", ["--days", "90"]),
    ("--days 90 --by task", ["--days", "90", "--by", "task"]),
    ("--days 90 --json", ["--days", "90", "--json"]),
    ("--days 90 --repo", ["--days", "90", "--repo", "/home/dev/src/project1"]),
    ("--days 90 --html", ["--days", "90", "--html", "/tmp/spend-bench.html"]),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("home")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    db = sqlite3.connect(Path(a.home) / "ledger.db")
    (rows,) = db.execute("SELECT COUNT(*) FROM attempts").fetchone()
    db.close()
    exe = str(Path(sys.executable).with_name("codetier"))
    env = {**os.environ, "CODETIER_HOME": a.home}
    # As installed: with bytecode caches (kept out of the tree), not recompiling every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "codetier-bench-pycache"))
    subprocess.run([exe, "spend"], env=env, capture_output=True, check=True)  # warm the page cache
    print(f"codetier spend over {rows:,} ledger rows, {a.runs} runs each (fresh process per run)")
    for label, args in CASES:
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run([exe, "spend", *args], env=env, capture_output=True, check=True)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"  {label:28} median {statistics.median(times):6.0f} ms   worst {max(times):6.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  peak RSS of any run: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
