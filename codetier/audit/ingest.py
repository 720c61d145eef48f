"""Reading transcripts into the audit tables, incrementally.

Each file's byte offset is kept (with its inode and a hash of its first
bytes, so a replaced file is read again from the start); a later run reads
only what was appended. Usage is deduplicated on message.id + requestId
across all files and runs (the table's primary key), which also keeps one
copy of a sidechain replay. Each usage entry is tied to the last user prompt
before it in its file, which the router classifies into a task and a tier.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import pricing
from codetier.audit import discover, parse
from codetier.errors import CodetierError
from codetier.registry import Price, Registry

BATCH = 5000
HEAD = 512
_DATED = re.compile(r"-\d{8}$")


@dataclass
class Stats:
    files: int = 0
    files_read: int = 0
    bytes: int = 0
    lines: int = 0
    malformed: int = 0
    entries: int = 0  # new deduplicated usage entries
    duplicates: int = 0
    prompts: int = 0
    unpriced: tuple[str, ...] = ()


class Prices:
    """Price lookups by (model, day), with dated ids (`claude-sonnet-4-5-20250929`) folded."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.cache: dict[tuple[str, str], Price | None] = {}
        self.unpriced: set[str] = set()

    def get(self, model: str, day: str) -> Price | None:
        key = (model, day)
        if key not in self.cache:
            import datetime as dt

            price = None
            for name in (model, _DATED.sub("", model)):
                if any(p.model == name for p in self.reg.prices):
                    price = self.reg.price(name, dt.date.fromisoformat(day))
                    break
            if price is None:
                self.unpriced.add(model)
            self.cache[key] = price
        return self.cache[key]


def _head(path: Path, upto: int) -> str:
    """A hash of the bytes already read (at most HEAD of them): a rewritten file differs."""
    with path.open("rb") as f:
        return hashlib.sha1(f.read(min(HEAD, upto))).hexdigest()


def _route(text: str, reg: Registry) -> tuple[str, str]:
    from codetier import router

    try:
        r = router.route(text[:4000], reg)
    except CodetierError:
        return "architecture", "deep"
    return r.task, r.tier


def _routed_model(reg: Registry, tier: str | None) -> str | None:
    """The model codetier would have used; tool-tier chores are priced at the fast
    model, not $0, since a transcript turn does more than the deterministic part."""
    name = "fast" if tier in (None, "tool") else tier
    t = reg.tiers.get(name) if name else None
    return t.model if t is not None else None


_USAGE_SQL = "INSERT OR IGNORE INTO audit_usage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)"
_PROMPT_SQL = "INSERT OR IGNORE INTO audit_prompts VALUES (?,?,?,?,?,?,?)"


def ingest(db: sqlite3.Connection, paths: Sequence[Path], reg: Registry) -> Stats:
    """Read what is new in every transcript below `paths` into the audit tables."""
    stats, prices = Stats(), Prices(reg)
    known = {
        row[0]: row[1:]
        for row in db.execute("SELECT path, inode, size, offset, head, task, tier FROM audit_files")
    }
    seen: set[str] = set()
    usage_rows: list[tuple[object, ...]] = []
    prompt_rows: list[tuple[object, ...]] = []

    def flush() -> None:
        before = db.total_changes
        db.executemany(_USAGE_SQL, usage_rows)
        added = db.total_changes - before
        stats.entries += added
        stats.duplicates += len(usage_rows) - added
        before = db.total_changes
        db.executemany(_PROMPT_SQL, prompt_rows)
        stats.prompts += db.total_changes - before
        usage_rows.clear()
        prompt_rows.clear()

    db.execute("BEGIN IMMEDIATE")
    try:
        for path in discover.files(paths):
            stats.files += 1
            try:
                st = path.stat()
            except OSError:
                continue
            name = str(path)
            offset, task, tier = 0, None, None
            if name in known:
                inode, size, offset, head, task, tier = known[name]
                if st.st_size == size and inode == st.st_ino:
                    continue  # unchanged since the last run
                if inode != st.st_ino or st.st_size < offset or _head(path, offset) != head:
                    offset, task, tier = 0, None, None  # replaced or rewritten: read it again
            progress = parse.Progress(offset)
            for entry in parse.read(path, progress):
                day = entry.ts.astimezone().date().isoformat()
                ts = entry.ts.isoformat()
                if isinstance(entry, parse.Prompt):
                    task, tier = _route(entry.text, reg)
                    prompt_rows.append((entry.key, ts, day, entry.session, entry.project, task, tier))
                else:
                    if entry.key in seen:
                        stats.duplicates += 1
                        continue
                    seen.add(entry.key)
                    usage = pricing.Usage(
                        entry.input,
                        entry.output,
                        entry.cache_write_5m,
                        entry.cache_write_1h,
                        entry.cache_read,
                    )
                    price = prices.get(entry.model, day)
                    cost = pricing.cost_micros(price, usage) if price else 0
                    routed = _routed_model(reg, tier)
                    routed_price = prices.get(routed, day) if routed else None
                    routed_cost = pricing.cost_micros(routed_price, usage) if routed_price else cost
                    usage_rows.append(
                        (
                            entry.key,
                            ts,
                            day,
                            entry.session,
                            entry.project,
                            entry.model,
                            int(entry.sidechain),
                            entry.input,
                            entry.output,
                            entry.cache_write_5m,
                            entry.cache_write_1h,
                            entry.cache_read,
                            cost,
                            task,
                            tier,
                            routed_cost,
                        )
                    )
                if len(usage_rows) + len(prompt_rows) >= BATCH:
                    flush()
            flush()
            stats.files_read += 1
            stats.bytes += progress.bytes
            stats.lines += progress.lines
            stats.malformed += progress.malformed
            db.execute(
                "INSERT OR REPLACE INTO audit_files VALUES (?,?,?,?,?,?,?)",
                (name, st.st_ino, progress.offset, progress.offset, _head(path, progress.offset), task, tier),
            )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    stats.unpriced = tuple(sorted(prices.unpriced))
    return stats
