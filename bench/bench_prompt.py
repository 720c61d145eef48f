"""Prompt building for a 5,000-line staged diff (target: <= 100 ms).

    /work/venv/bin/python bench/bench_prompt.py [--lines 5000] [--runs 20]

Prints the median of: reading the staged diff from git, parsing it with
unidiff and rendering the commit-message prompt (cm.gather + cm.prompt), and
the same without the git call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def make_repo(root: Path, lines: int, files: int = 10) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=root, check=True, env=env
        )

    git("init", "-q")
    per = lines // files
    for i in range(files):
        (root / f"mod_{i}.py").write_text("".join(f"value_{j} = {j}\n" for j in range(per)))
    git("add", ".")
    git("commit", "-q", "-m", "feat: start")
    for i in range(files):  # every line changed: `per` removed + `per` added per file
        (root / f"mod_{i}.py").write_text("".join(f"value_{j} = compute({j})\n" for j in range(per)))
    git("add", ".")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--lines", type=int, default=5_000, help="changed lines (added + removed count once each)"
    )
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    from codetier import diffs
    from codetier.chores import commit_message as cm
    from codetier.tools import git

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_repo(root, args.lines // 2)
        raw = git.staged_diff(root)
        n = sum(1 for line in raw.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))
        full, local = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            ctx = cm.gather(root)
            text = cm.prompt(ctx, cm.DEFAULT_DIFF_TOKENS)
            full.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            files = diffs.parse(raw)
            diffs.render(files, cm.DEFAULT_DIFF_TOKENS)
            local.append((time.perf_counter() - t0) * 1000)
    budget = cm.DEFAULT_DIFF_TOKENS
    print(f"diff: {n:,} changed lines in 10 files; prompt {len(text):,} chars (budget {budget:,} tokens)")
    print(
        f"prompt building (git diff + branch + log + parse + render): median {statistics.median(full):.1f} ms"
    )
    print(f"parse + render only: median {statistics.median(local):.1f} ms  (target <= 100 ms)")


if __name__ == "__main__":
    main()
