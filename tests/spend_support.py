"""Ledgers for spend tests, built by real engine runs against the stub."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from codetier import config, engine, registry, router
from codetier.engine import Check, Context, Job, Link
from codetier.providers.base import Call, Completion

DAY = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def reg_for(root: Path) -> registry.Registry:
    return registry.build(config.load(root))


def job(task: str, reject_first: int = 0) -> Job:
    """A job whose check rejects the first `reject_first` answers (to force escalations)."""
    seen: list[int] = []

    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call(task, link.model, "You are terse.", f"do the {task} chore\n" + "\n".join(failures), 2000)

    def check(c: Completion) -> Check:
        seen.append(1)
        if len(seen) <= reject_first:
            return Check(False, "not good enough")
        return Check(True, value=c.text)

    return Job(task, build, check)


def run(
    task: str,
    reg: registry.Registry,
    repo: Path,
    at: dt.datetime = DAY,
    *,
    reject_first: int = 0,
    source: str = "cli",
    cache_key: str | None = None,
) -> engine.Result:
    r = router.route(f"{task}", reg, task=task)
    ctx = Context(source=source, repo=str(repo), now=lambda: at, cache_key=cache_key)
    return engine.run(job(task, reject_first), r, reg, ctx)
