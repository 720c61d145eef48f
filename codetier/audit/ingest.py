"""Reading transcripts into the audit tables, incrementally.

Each file's byte offset is kept (with its inode and a hash of its first
bytes, so a replaced file is read again from the start); a later run reads
only what was appended. Usage is deduplicated on message.id + requestId
across all files and runs (the table's primary key), which also keeps one
copy of a sidechain replay. Each usage entry is tied to the last user prompt
before it in its file, which the router classifies into a task and a tier.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import sqlite3
import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codetier.audit import discover, parse
from codetier.audit.classify import Classifier
from codetier.audit.rollup import PromptKey, Rollup, UsageKey
from codetier.registry import Price, Registry

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


def _routed_model(reg: Registry, tier: str | None) -> str | None:
    """The model codetier would have used; tool-tier chores are priced at the fast
    model, not $0, since a transcript turn does more than the deterministic part."""
    name = "fast" if tier in (None, "tool") else tier
    t = reg.tiers.get(name) if name else None
    return t.model if t is not None else None


Rates = tuple[float, float, float, float, float, int | None, Any]  # 5 rates, long threshold, long Rates


def _rates(price: Price) -> Rates:
    """A price's per-token rates, and those past its long-context threshold, looked up once."""
    rates = (price.input, price.output, price.cache_write_5m, price.cache_write_1h, price.cache_read)
    if price.long_threshold is None:
        return (*rates, None, None)
    long = price.long_rates  # the whole request at the long rates, where it has them
    names = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    longer = tuple(long.get(name, rate) for name, rate in zip(names, rates, strict=True))
    return (*rates, price.long_threshold, (*longer, None, None))


def _priced(r: Rates, n_in: int, n_out: int, w5: int, w1: int, cr: int) -> int:
    """`pricing.cost_micros` without building a Usage (same arithmetic, same order;
    a test holds the two equal): it runs once or twice per usage entry."""
    if r[5] is not None and n_in + w5 + w1 + cr > r[5]:
        r = r[6]
    return round(n_in * r[0] + n_out * r[1] + w5 * r[2] + w1 * r[3] + cr * r[4])


def _cost(price: Price, n_in: int, n_out: int, w5: int, w1: int, cr: int) -> int:
    return _priced(_rates(price), n_in, n_out, w5, w1, cr)


# Keys go in as one JSON array each: SQLite unpacks it in C, faster than a bind per key.
_USAGE_SQL = "INSERT INTO audit_keys SELECT value, 0 FROM json_each(?)"
_PROMPT_SQL = "INSERT INTO audit_prompt_keys SELECT value FROM json_each(?)"
# Past this many new bytes, files are parsed by a pool of processes (one per core).
PARALLEL_BYTES = 32_000_000
CACHE_KB = 96_000
ROUTES_KEPT = 20_000
BATCH = 8  # files per task sent to the pool


@dataclass(frozen=True)
class FileJob:
    path: Path
    inode: int
    offset: int
    task: str | None  # the last prompt's routing, carried across runs
    tier: str | None
    head: str | None = None  # the stored hash, when it already covers HEAD bytes
    size: int | None = None  # as listed


@dataclass
class FileResult:
    job: FileJob
    progress: parse.Progress
    task: str | None
    tier: str | None
    usage: list[str]  # the keys of the usage entries, in order
    values: array[int]  # per entry VALUES ints: index into rkeys, then Rollup's sums for one entry
    rkeys: list[UsageKey]
    prompts: list[str]  # the keys of the prompts
    pvalues: array[int]  # per prompt: index into pkeys
    pkeys: list[PromptKey]
    repeats: int  # usage lines that repeated the line before (same message and request)
    rollup: Rollup  # the sums of `usage` and `prompts`
    head: str  # the hash of the file's first bytes (see _head), worked out here, off the main process
    rows: list[tuple[Any, ...]]  # whole usage rows (see ROW), when the Reader was asked for them


# The columns of a whole usage row, as `--import` reads them (see `entries`).
ROW = ("key", "ts", "day", "session", "project", "model", "sidechain", "input", "output", "cw5m", "cw1h",
       "cache_read", "cost", "task", "tier", "routed")  # fmt: skip
VALUES = 7  # ints per usage entry in FileResult.values


class Reader:
    """Per process: parses one file's new lines into rows, priced and routed."""

    def __init__(self, reg: Registry, rows: bool = False) -> None:
        self.reg, self.prices, self.classifier = reg, Prices(reg), Classifier(reg)
        self.rows = rows
        self.same: dict[str | None, str | None] = {}
        self.days: dict[int, str] = {}
        self.routed: dict[str | None, str | None] = {}
        self.routes: dict[str, tuple[str, str]] = {}  # prompt text -> (task, tier): prompts repeat
        self.rates: dict[tuple[str, str, str | None], tuple[Rates | None, Rates | None]] = {}

    def _routed(self, tier: str | None) -> str | None:
        model = self.routed[tier] = _routed_model(self.reg, tier)
        return model

    def __call__(self, job: FileJob) -> FileResult:
        task, tier = job.task, job.tier
        keys: list[str] = []
        values = array("q")
        rkeys: dict[UsageKey, int] = {}
        prompts: list[str] = []
        pvalues = array("q")
        pkeys: dict[PromptKey, int] = {}
        rows: list[tuple[Any, ...]] = []
        same = self.same
        rollup = Rollup()
        progress = parse.Progress(job.offset)
        last, repeats = None, 0
        for entry in parse.read(job.path, progress):
            minute = int(entry.ts.timestamp()) // 60
            day = self.days.get(minute)
            if day is None:  # the local date, worked out once per minute of timestamps
                day = self.days[minute] = entry.ts.astimezone().date().isoformat()
            if isinstance(entry, parse.Prompt):
                route = self.routes.get(entry.text)
                if route is None:
                    if len(self.routes) > ROUTES_KEPT:
                        self.routes.clear()
                    route = self.routes[entry.text] = self.classifier.route(entry.text)
                task, tier = route
                pk = (day, task, tier)
                i = pkeys.get(pk)
                if i is None:
                    i = pkeys[pk] = len(pkeys)
                prompts.append(entry.key)
                pvalues.append(i)
                rollup.prompts[pk] = rollup.prompts.get(pk, 0) + 1
                continue
            if entry.key == last:  # Claude Code repeats the usage on every content-block line
                repeats += 1
                continue
            last = entry.key
            n_in, n_out, w5, w1, cr = (
                entry.input, entry.output, entry.cache_write_5m, entry.cache_write_1h, entry.cache_read
            )  # fmt: skip
            rates = self.rates.get((entry.model, day, tier))
            if rates is None:
                routed = self.routed.get(tier) if tier in self.routed else self._routed(tier)
                price, routed_price = (
                    self.prices.get(entry.model, day),
                    self.prices.get(routed, day) if routed else None,
                )
                rates = self.rates[(entry.model, day, tier)] = (
                    _rates(price) if price else None,
                    _rates(routed_price) if routed_price else None,
                )
            rate, routed_rate = rates
            cost = _priced(rate, n_in, n_out, w5, w1, cr) if rate else 0
            routed_cost = _priced(routed_rate, n_in, n_out, w5, w1, cr) if routed_rate else cost
            rk = (day, entry.model, task or "", tier or "")
            i = rkeys.get(rk)
            if i is None:
                i = rkeys[rk] = len(rkeys)
                rollup.usage[rk] = [0] * VALUES
            keys.append(entry.key)
            values.extend((i, n_in, n_out, w5 + w1, cr, cost, routed_cost))
            sums = rollup.usage[rk]  # Rollup.add, inline: this runs for every entry
            sums[0] += 1
            sums[1] += n_in
            sums[2] += n_out
            sums[3] += w5 + w1
            sums[4] += cr
            sums[5] += cost
            sums[6] += routed_cost
            if self.rows:  # one string object per distinct session, project, model: less memory
                session, project, model = (
                    same.setdefault(v, v) for v in (entry.session, entry.project, entry.model)
                )
                rows.append(
                    (entry.key, entry.ts.isoformat(), day, session, project, model,
                     int(entry.sidechain), n_in, n_out, w5, w1, cr, cost, task, tier, routed_cost)
                )  # fmt: skip
        return FileResult(
            job,
            progress,
            task,
            tier,
            keys,
            values,
            list(rkeys),
            prompts,
            pvalues,
            list(pkeys),
            repeats + progress.repeats,
            rollup,
            job.head or _head(job.path, progress.offset),
            rows,
        )


_reader: Reader | None = None


def _init_worker(reg: Registry, rows: bool) -> None:
    global _reader
    gc.disable()  # see _no_gc; a worker lives for one run
    _reader = Reader(reg, rows)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Without the cycle collector while reading: the rows, keys and sets made here hold no
    cycles, and hundreds of thousands of them would set it off again and again for nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _work(batch: list[FileJob]) -> tuple[list[FileResult], tuple[str, ...]]:
    """A few files read in a worker; their sums travel (and are merged) once, with the first."""
    assert _reader is not None
    results = [_reader(job) for job in batch]
    for r in results[1:]:
        results[0].rollup.merge(r.rollup)
        r.rollup = Rollup()
    return results, tuple(_reader.prices.unpriced)


def _jobs(db: sqlite3.Connection, paths: Sequence[Path], stats: Stats) -> list[FileJob]:
    """The files with something new, each from where the last run stopped."""
    known = {
        row[0]: row[1:]
        for row in db.execute("SELECT path, inode, size, offset, head, task, tier FROM audit_files")
    }
    jobs = []
    for path, st in discover.stats(paths):
        stats.files += 1
        if st is None:
            continue
        offset, task, tier, head = 0, None, None, None
        if path in known:
            inode, size, offset, head, task, tier = known[path]
            if st.st_size == size and inode == st.st_ino:
                continue  # unchanged since the last run
            if inode != st.st_ino or st.st_size < offset or _head(Path(path), offset) != head:
                offset, task, tier, head = 0, None, None, None  # replaced or rewritten: read it again
        jobs.append(
            FileJob(Path(path), st.st_ino, offset, task, tier, head if offset >= HEAD else None, st.st_size)
        )
    return jobs


def _results(
    jobs: list[FileJob], reg: Registry, unpriced: set[str], rows: bool = False
) -> Iterator[FileResult]:
    """Each file's rows, in order; in a pool of processes when there is a lot to read."""
    todo = sum(max((j.path.stat().st_size if j.size is None else j.size) - j.offset, 0) for j in jobs)
    cores = os.cpu_count() or 1
    if todo < PARALLEL_BYTES or cores < 2 or len(jobs) < 2:
        reader = Reader(reg, rows)
        for job in jobs:
            yield reader(job)
        unpriced.update(reader.prices.unpriced)
        return
    import threading

    batches = [jobs[i : i + BATCH] for i in range(0, len(jobs), BATCH)]
    if threading.active_count() == 1 and sys.platform == "linux":
        yield from _forked(batches, reg, rows, min(cores, 8), unpriced)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(min(cores, 8), _init_worker, (reg, rows)) as pool:
        for results, missing in pool.imap(_work, batches):
            unpriced.update(missing)
            yield from results


def _forked(
    batches: list[list[FileJob]], reg: Registry, rows: bool, n: int, unpriced: set[str]
) -> Iterator[FileResult]:
    """Batches read by `n` forked children, child k taking batches k, k+n, ...; each sends its
    results down a pipe and the parent reads them back in order. Lighter than a
    multiprocessing.Pool, whose three helper threads cost the parent ~0.5 s of CPU here."""
    import pickle
    import signal

    children: list[tuple[int, Any]] = []
    try:
        for k in range(n):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                code = 0
                try:
                    os.close(read_fd)
                    for _, f in children:
                        f.close()
                    _init_worker(reg, rows)
                    with os.fdopen(write_fd, "wb") as out:
                        for batch in batches[k::n]:
                            try:
                                message: tuple[Any, ...] = (*_work(batch), None)
                            except Exception as e:  # raised again in the parent
                                message = (None, None, e)
                            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
                            if message[2] is not None:
                                break
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            os.close(write_fd)
            children.append((pid, os.fdopen(read_fd, "rb")))
        for i in range(len(batches)):
            try:
                results, missing, error = pickle.load(children[i % n][1])
            except EOFError:
                raise RuntimeError("an audit worker process died") from None
            if error is not None:
                raise error
            unpriced.update(missing)
            yield from results
    finally:
        for pid, f in children:
            f.close()
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)  # gone already when it finished
            os.waitpid(pid, 0)


def _existing(db: sqlite3.Connection, table: str, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        sql = f"SELECT key FROM {table} WHERE key IN ({','.join('?' * len(chunk))})"
        found.update(k for (k,) in db.execute(sql, chunk))
    return found


def ingest(db: sqlite3.Connection, paths: Sequence[Path], reg: Registry) -> Stats:
    """Read what is new in every transcript below `paths` into the audit tables."""
    with _no_gc():
        return _ingest(db, paths, reg)


def _ingest(db: sqlite3.Connection, paths: Sequence[Path], reg: Registry) -> Stats:
    stats, unpriced, rollup = Stats(), set[str](), Rollup()
    jobs = _jobs(db, paths, stats)
    seen: set[str] = set()
    seen_prompts: set[str] = set()
    # Only keys are stored (the rollups hold the sums), inserted in key order at the end:
    # the key index then fills page by page instead of splitting pages at random.
    db.execute(f"PRAGMA cache_size = {-CACHE_KB}")
    db.execute("BEGIN IMMEDIATE")
    try:
        # A first run inserts every key it sees once; later runs ask which keys exist.
        empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM audit_keys)").fetchone()[0]
        files: list[tuple[Any, ...]] = []
        fresh: list[tuple[str, UsageKey, Sequence[int]]] = []  # new to this run: asked about at the end
        prompts: list[tuple[str, PromptKey]] = []
        for r in _results(jobs, reg, unpriced):
            stats.duplicates += r.repeats
            rollup.merge(r.rollup)  # then take back what is dropped here
            values = r.values
            for j, key in enumerate(r.usage):
                if key in seen:
                    stats.duplicates += 1
                    one = values[j * VALUES : (j + 1) * VALUES]
                    rollup.add(r.rkeys[one[0]], (1, *one[1:]), -1)
                else:
                    seen.add(key)
                    if not empty:
                        one = values[j * VALUES : (j + 1) * VALUES]
                        fresh.append((key, r.rkeys[one[0]], (1, *one[1:])))
            for j, key in enumerate(r.prompts):
                if key in seen_prompts:
                    pk = r.pkeys[r.pvalues[j]]
                    rollup.prompts[pk] -= 1
                else:
                    seen_prompts.add(key)
                    if not empty:
                        prompts.append((key, r.pkeys[r.pvalues[j]]))
            stats.files_read += 1
            stats.bytes += r.progress.bytes
            stats.lines += r.progress.lines
            stats.malformed += r.progress.malformed
            files.append(
                (str(r.job.path), r.job.inode, r.progress.offset, r.progress.offset, r.head, r.task, r.tier)
            )
        old = _existing(db, "audit_keys", sorted(key for key, _, _ in fresh))
        for key, rk, sums in fresh:
            if key in old:
                stats.duplicates += 1
                seen.discard(key)
                rollup.add(rk, sums, -1)
        old = _existing(db, "audit_prompt_keys", sorted(key for key, _ in prompts))
        for key, pk in prompts:
            if key in old:
                seen_prompts.discard(key)
                rollup.prompts[pk] -= 1
        # `seen` now holds exactly the new keys (those already stored were taken out).
        db.execute(_USAGE_SQL, (json.dumps(sorted(seen)),))
        db.execute(_PROMPT_SQL, (json.dumps(sorted(seen_prompts)),))
        stats.entries, stats.prompts = len(seen), len(seen_prompts)
        db.executemany("INSERT OR REPLACE INTO audit_files VALUES (?,?,?,?,?,?,?)", files)
        rollup.write(db)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    stats.unpriced = tuple(sorted(unpriced))
    return stats


def entries(paths: Sequence[Path], reg: Registry) -> Iterator[tuple[Any, ...]]:
    """Every deduplicated usage row (see Reader) in every transcript below `paths`, read
    from the start: what `--import` copies into the ledger (the audit tables keep sums)."""
    jobs = [FileJob(Path(p), 0, 0, None, None) for p in discover.files(paths)]
    seen: set[str] = set()
    for r in _results(jobs, reg, set(), rows=True):
        for row in r.rows:
            if row[0] not in seen:
                seen.add(row[0])
                yield row
