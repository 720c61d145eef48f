"""Two builds of codetier against each other on `codetier audit`, runs interleaved.

    python bench/ab_audit.py /tmp/tr500base --old /tmp/oldvenv/bin/codetier \\
        --new /tmp/newvenv/bin/codetier --pairs 8

On a shared machine whose speed drifts within minutes, two benches run an hour
apart cannot tell a 10% change; runs taken in turns can. The data is copied
first (the 1% for the repeat is appended to the copy). Prints, per build, the
first run's wall and CPU time (its forked readers included) and the repeat's
wall time, min and median, and the new/old ratio of each pair. With
`--repeat-only`, each build's first run is made once, untimed, and only the
repeats are paired (a repeat is ~0.1 s: 30 pairs take a minute).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run, its children included."""
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def report(label: str, runs: dict[str, list[float]]) -> None:
    for name, values in runs.items():
        print(f"  {label:13} {name}: min {min(values):.3f} s  median {statistics.median(values):.3f} s")
    pairs = " ".join(f"{n / o:.2f}" for n, o in zip(runs["new"], runs["old"], strict=True))
    print(f"  {label:13} new/old per pair: {pairs}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path, help="transcripts from gen_transcripts.py (left unchanged)")
    ap.add_argument("--old", required=True, help="the codetier executable of one build")
    ap.add_argument("--new", required=True, help="and of the other")
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--repeat-only", action="store_true", help="time only the repeat run")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="audit-ab-"))
    try:
        data = work / "data"
        shutil.copytree(a.dir, data)
        os.sync()
        exes = {"old": a.old, "new": a.new}
        homes = {name: work / name for name in exes}
        env = {**os.environ, "TZ": "UTC", "CLAUDE_CONFIG_DIR": str(data)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: with bytecode caches

        def run(name: str) -> tuple[float, float]:
            return timed([exes[name], "audit", "--json"], {**env, "CODETIER_HOME": str(homes[name])})

        def order(i: int) -> list[str]:
            return ["old", "new"] if i % 2 == 0 else ["new", "old"]

        first: dict[str, list[float]] = {"old": [], "new": []}
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(1 if a.repeat_only else a.pairs):
            for name in order(i):
                shutil.rmtree(homes[name], ignore_errors=True)
                wall, seconds = run(name)
                first[name].append(wall)
                cpu[name].append(seconds)
        for home in homes.values():  # fold the WAL in, then keep the ledger as the first run left it
            sqlite3.connect(home / "ledger.db").close()
            shutil.copy(home / "ledger.db", home / "first.db")
        subprocess.run([sys.executable, str(HERE / "gen_transcripts.py"), str(data), "--append-pct", "1"],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        repeat: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(a.pairs):
            for name in order(i):
                for f in homes[name].glob("ledger.db*"):
                    f.unlink()
                shutil.copy(homes[name] / "first.db", homes[name] / "ledger.db")
                os.sync()
                repeat[name].append(run(name)[0])
        print(f"{a.pairs} pairs, taken in turns")
        if not a.repeat_only:
            report("first, wall", first)
            report("first, CPU", cpu)
        report("repeat, wall", repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
