"""Whole-process time of `codetier route` and the CLI's import time.

Target (issue 2): `codetier route` <= 150 ms median on this machine.
Run: python bench/bench_route.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def whole_process(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def import_time(module: str, env: dict[str, str]) -> tuple[float, list[tuple[int, str]]]:
    """Total import time of `module` (ms) and the five heaviest imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), m.group(3), m.group(4)))
    total = next(us for us, indent, name in rows if name == module and len(indent) == 1)
    top = sorted(((us, name) for us, indent, name in rows if len(indent) == 1), reverse=True)[:5]
    return total / 1000, top


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    home = tempfile.mkdtemp()
    env = {**os.environ, "CODETIER_HOME": home}
    env.pop("ANTHROPIC_API_KEY", None)
    exe = shutil.which("codetier") or f"{os.path.dirname(sys.executable)}/codetier"
    cmd = [exe, "route", "refactor the auth flow across modules"]
    whole_process(cmd, 2, env)  # warm the page cache
    times = whole_process(cmd, args.runs, env)
    print(
        f"codetier route: median {statistics.median(times):.0f} ms, p90 "
        f"{statistics.quantiles(times, n=10)[-1]:.0f} ms over {args.runs} runs (target <= 150 ms)"
    )
    baseline = whole_process([sys.executable, "-c", "pass"], args.runs, env)
    print(f"python -c pass: median {statistics.median(baseline):.0f} ms (interpreter start-up alone)")
    total, top = import_time("codetier.cli", env)
    print(f"import codetier.cli: {total:.1f} ms")
    for us, name in top:
        print(f"  {name}: {us / 1000:.1f} ms")
    for heavy in ("anthropic", "rope", "pygls", "rich", "git", "watchdog"):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys, codetier.cli, codetier.cli.route; print({heavy!r} in sys.modules)",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        print(f"  {heavy} imported by route: {proc.stdout.strip()}")
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
