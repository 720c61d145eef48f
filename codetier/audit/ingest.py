"""Reading transcripts into the audit tables, incrementally.

Each file's byte offset is kept (with its inode and a hash of its first
bytes, so a replaced file is read again from the start); a later run reads
only what was appended. Usage is deduplicated on message.id + requestId
across all files and runs (ledger/keyruns.py), which also keeps one
copy of a sidechain replay. Each usage entry is tied to the last user prompt
before it in its file, which the router classifies into a task and a tier.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator, Sequence
from itertools import chain, compress
from operator import ne
from pathlib import Path
from typing import Any

from codetier.audit import changes, discover
from codetier.audit.changes import FileJob
from codetier.audit.lines import storable
from codetier.audit.reader import VALUES, FileResult
from codetier.audit.rollup import PromptKey, Rollup, UsageKey
from codetier.audit.workers import _no_gc, _results, new_bytes
from codetier.ledger.db import begin
from codetier.ledger.keyruns import PROMPT, USAGE, KeyRuns
from codetier.registry import Registry


class Stats:
    """What a run found: shown under "scan" in the report."""

    __slots__ = (
        "bytes",
        "duplicates",
        "entries",
        "files",
        "files_read",
        "lines",
        "malformed",
        "prompts",
        "unpriced",
        "unreadable",
    )

    def __init__(self) -> None:
        self.files = self.files_read = self.bytes = self.lines = self.malformed = 0
        self.entries = 0  # new deduplicated usage entries
        self.duplicates = self.prompts = 0
        self.unpriced: tuple[str, ...] = ()
        self.unreadable: list[str] = []  # "path: reason" of each file that could not be opened


def _jobs(
    db: sqlite3.Connection, paths: Sequence[Path], stats: Stats, early: changes.PendingChild | None = None
) -> list[FileJob]:
    """The files with something new, each from where the last run stopped."""
    got = early.result() if early else None
    files, jobs = got if got is not None else changes.pending(changes.known(db), discover.stats(paths))
    stats.files += files
    return jobs


def _entry(r: FileResult, j: int) -> tuple[UsageKey, tuple[int, ...]]:
    """The rollup key and sums of a file's `j`th usage entry (see Rollup.add)."""
    one = r.values[j * VALUES : (j + 1) * VALUES]
    return r.rkeys[one[0]], (1, *one[1:])


def _uncount_prompt(rollup: Rollup, pk: PromptKey) -> None:
    rollup.prompts[pk] = rollup.prompts.get(pk, 0) - 1


def _all_new(seen: set[int], keys: list[int]) -> bool:
    """None of `keys` seen before, and none twice."""
    return seen.isdisjoint(keys) and len(set(keys)) == len(keys)


def _in_order(runs: list[array[int]], keys: set[int]) -> list[int] | None:
    """`keys` sorted, from the readers' sorted runs, which together hold every key read (and
    `keys` is those not stored before): the runs merged (timsort finds them), each key once,
    all in C and in order in memory, 18-24 ms for 140k keys where sorting the set afresh took
    50-100 ms after the readers were done. None if the runs do not add up to `keys`."""
    merged = sorted(chain.from_iterable(runs))
    out = merged[:1]
    out += compress(merged[1:], map(ne, merged, merged[1:]))  # a key read by two readers once
    if len(out) > len(keys):  # some were stored before (a file read again from the start)
        out = [k for k in out if k in keys]
    return out if len(out) == len(keys) else None


class TooMuch(Exception):
    """More is new than the caller would read (see `ingest`'s limit)."""


def ingest(
    db: sqlite3.Connection,
    paths: Sequence[Path],
    reg: Registry,
    limit: int | None = None,
    early: changes.PendingChild | None = None,
) -> Stats:
    """Read what is new in every transcript below `paths` into the audit tables. With
    `limit`, raises TooMuch instead when that many bytes or more are new. `early`, when
    given, is working out what is new already (see changes.PendingChild)."""
    with _no_gc():
        return _ingest(db, paths, reg, limit, early)


def _ingest(
    db: sqlite3.Connection,
    paths: Sequence[Path],
    reg: Registry,
    limit: int | None,
    early: changes.PendingChild | None,
) -> Stats:
    stats, unpriced, rollup = Stats(), set[str](), Rollup()
    jobs = _jobs(db, paths, stats, early)
    if limit is not None and (todo := new_bytes(jobs)) >= limit:
        raise TooMuch(f"{todo:,} bytes are new, {limit:,} or more")
    seen: set[int] = set()
    seen_prompts: set[int] = set()
    begin(db)
    try:
        # Only keys are stored (the rollups hold the sums): what this run saw, less what
        # earlier runs stored, is appended as one run of each kind at the end.
        stored, stored_prompts = KeyRuns(db, USAGE), KeyRuns(db, PROMPT)
        files: list[tuple[Any, ...]] = []
        read: list[FileResult] = []  # kept to take back, at the end, what earlier runs stored
        runs: list[array[int]] = []  # the readers' sorted keys (see FileResult.run)
        for r in _results(jobs, reg, unpriced):
            stats.duplicates += r.repeats
            rollup.merge(r.rollup)  # then take back what is dropped here
            if r.run is not None:
                runs.append(r.run)
            if r.error is not None:  # nothing read, nothing stored: tried again next run
                stats.unreadable.append(r.error)
                continue
            if _all_new(seen, r.usage):  # the usual case, in C: nothing to take back
                seen.update(r.usage)
            else:
                for j, key in enumerate(r.usage):
                    if key in seen:
                        stats.duplicates += 1
                        rollup.add(*_entry(r, j), -1)
                    else:
                        seen.add(key)
            if _all_new(seen_prompts, r.prompts):
                seen_prompts.update(r.prompts)
            else:
                for j, key in enumerate(r.prompts):
                    if key in seen_prompts:  # a forked reader's sums may not have come yet: .get
                        _uncount_prompt(rollup, r.pkeys[r.pvalues[j]])
                    else:
                        seen_prompts.add(key)
            if stored.runs or stored_prompts.runs:
                read.append(r)
            stats.files_read += 1
            stats.bytes += r.progress.bytes
            stats.lines += r.progress.lines
            stats.malformed += r.progress.malformed
            path, offset = changes.as_stored(r.job.path), r.progress.offset
            files.append((path, r.job.inode, offset, offset, r.head, r.task, r.tier))
        # Take back what earlier runs counted: each key's first copy in this run (later
        # copies were taken back above). Sets in C first: usually nothing is old.
        new_usage = stored.new(seen) if stored.runs else seen
        new_prompts = stored_prompts.new(seen_prompts) if stored_prompts.runs else seen_prompts
        old, old_prompts = seen - new_usage, seen_prompts - new_prompts
        for r in read if old or old_prompts else ():
            for j, key in enumerate(r.usage):
                if key in old:
                    old.discard(key)
                    stats.duplicates += 1
                    rollup.add(*_entry(r, j), -1)
            for j, key in enumerate(r.prompts):
                if key in old_prompts:
                    old_prompts.discard(key)
                    _uncount_prompt(rollup, r.pkeys[r.pvalues[j]])
        stored.add(new_usage, _in_order(runs, new_usage))
        stored_prompts.add(new_prompts)
        stats.entries, stats.prompts = len(new_usage), len(new_prompts)
        db.executemany("INSERT OR REPLACE INTO audit_files VALUES (?,?,?,?,?,?,?)", files)
        rollup.write(db)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    stats.unpriced = tuple(sorted({storable(model) for model in unpriced}))  # as the tables name them
    return stats


def entries(paths: Sequence[Path], reg: Registry) -> Iterator[tuple[Any, ...]]:
    """Every deduplicated usage row (see Reader) in every transcript below `paths`, read
    from the start: what `--import` copies into the ledger (the audit tables keep sums)."""
    jobs = [FileJob(p, ino, 0, None, None, size=size) for p, ino, size in discover.stats(paths) if size >= 0]
    seen: set[str] = set()
    for r in _results(jobs, reg, set(), rows=True):
        for row in r.rows:
            if row[0] not in seen:
                seen.add(row[0])
                yield row
