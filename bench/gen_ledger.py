"""Write a synthetic ledger of N rows (default 1,000,000) for bench_spend.py.

    python bench/gen_ledger.py /tmp/spendbench [--rows 1000000] [--days 90]

Rows go straight into SQLite (a bench may; tests use real engine runs): 90
days of five repos, every tier and task, ~8% escalations, cache reads,
daemon drafts (some never used) and cache hits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

TIERS = [
    ("tool", None, 0.20),
    ("fast", "claude-haiku-5-5", 0.45),
    ("balanced", "claude-sonnet-5-5", 0.28),
    ("deep", "claude-opus-5-5", 0.07),
]
TASKS = {
    "tool": ["format_fix", "rename", "changelog_release"],
    "fast": ["commit_message", "docstring", "changelog_entry"],
    "balanced": ["explain", "test_writing", "code_review", "implement"],
    "deep": ["architecture", "debug"],
}
PRICE = {
    "claude-haiku-5-5": (0.1, 0.5, 0.01),
    "claude-sonnet-5-5": (2, 10, 0.2),
    "claude-opus-5-5": (4, 20, 0.2),
}
DEEP = PRICE["claude-opus-5-5"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("home")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=90)
    a = ap.parse_args()
    os.environ["CODETIER_HOME"] = a.home
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from codetier import ledger
    from codetier.ledger.rows import COLUMNS

    path = Path(a.home) / "ledger.db"
    if path.exists():
        path.unlink()
    db = ledger.connect(path)
    rnd = random.Random(7)
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = end - dt.timedelta(days=a.days)
    span = (end - start).total_seconds()
    repos = [f"/home/dev/src/project{i}" for i in range(5)]
    names = [*COLUMNS, "day"]
    sql = f"INSERT INTO attempts ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    t0 = time.perf_counter()
    batch: list[tuple[object, ...]] = []
    n = req = 0
    stamps = sorted(rnd.random() * span for _ in range(a.rows))
    db.execute("BEGIN")
    while n < a.rows:
        req += 1
        ts = start + dt.timedelta(seconds=stamps[n])
        tier, model, _ = rnd.choices(TIERS, weights=[t[2] for t in TIERS])[0]
        task = rnd.choice(TASKS[tier])
        repo = rnd.choice(repos)
        attempts = 2 if tier in ("fast", "balanced") and rnd.random() < 0.08 else 1
        draft = tier == "fast" and rnd.random() < 0.1
        for k in range(1, attempts + 1):
            if n >= a.rows:
                break
            if k == 2:
                tier, model = (
                    ("balanced", "claude-sonnet-5-5") if tier == "fast" else ("deep", "claude-opus-5-5")
                )
            n_in, n_out, cr = rnd.randint(200, 8000), rnd.randint(20, 2000), rnd.choice([0, 0, 5000, 20000])
            cost = cf = 0
            if model:
                p = PRICE[model]
                cost = round(n_in * p[0] + n_out * p[1] + cr * p[2])
            cf = round(n_in * DEEP[0] + n_out * DEEP[1] + cr * DEEP[2])
            outcome = "check_failed" if k < attempts else "ok"
            row = {
                "ts": ts.isoformat(timespec="milliseconds"),
                "source": "daemon" if draft else rnd.choice(["cli", "hook", "lsp"]),
                "request_id": f"ct_{req:012x}",
                "attempt": k,
                "task": task,
                "tier": tier,
                "provider": "anthropic" if model else "tool",
                "outcome": outcome,
                "model": model,
                "session": None,
                "repo": repo,
                "input_tokens": n_in if model else 0,
                "output_tokens": n_out if model else 0,
                "cache_write_5m_tokens": 0,
                "cache_write_1h_tokens": 0,
                "cache_read_tokens": cr if model else 0,
                "cost_micros": cost,
                "counterfactual_micros": cf,
                "latency_ms": rnd.randint(5, 40) if not model else int(rnd.lognormvariate(7, 0.6)),
                "reason": None,
                "redacted": 0,
                "provider_request_id": None,
                "prompt": None,
                "parent_id": None,
                "phase": None,
                "cache_key": f"k{req}" if draft else None,
                "day": ts.astimezone().date().isoformat(),
            }
            batch.append(tuple(row[c] for c in names))
            n += 1
            if draft and rnd.random() < 0.6 and n < a.rows:  # a hook later used the draft
                hit = dict(
                    row,
                    source="hook",
                    request_id=f"ct_{req:012x}h",
                    outcome="cache_hit",
                    cost_micros=0,
                    counterfactual_micros=0,
                    latency_ms=1,
                )
                batch.append(tuple(hit[c] for c in names))
                n += 1
        if len(batch) >= 20_000:
            db.executemany(sql, batch)
            batch.clear()
    db.executemany(sql, batch)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    print(
        f"wrote {n:,} rows in {time.perf_counter() - t0:.1f} s to {path} ({path.stat().st_size / 1e6:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
