"""Reading one transcript file from where the last run stopped: its new
usage entries (priced, deduplicated within the file) and user prompts (routed)."""

from __future__ import annotations

import datetime as dt
import struct
from array import array
from typing import Any, BinaryIO, NamedTuple

from codetier.audit import lines, parse
from codetier.audit.changes import FileJob, file_head
from codetier.audit.classify import Classifier
from codetier.audit.prices import Prices, Rates, priced, rates_of, routed_model
from codetier.audit.rollup import PromptKey, Rollup, UsageKey
from codetier.ledger.keyruns import key_hash
from codetier.registry import Registry

UTC = dt.UTC
EPOCH_HOURS = dt.date(1970, 1, 1).toordinal() * 24
ROUTES_KEPT = 20_000  # prompt texts whose route is remembered: "yes", "go on" and the like repeat
ROUTE_KEPT_CHARS = 200  # longer texts seldom do


def _hour_day(hour: int) -> str:
    """The local date all through this hour since the epoch, or "" if it changes in it
    (the date changes at most once, forward, inside a UTC hour) or cannot be had."""
    try:
        first, last = dt.datetime.fromtimestamp(hour * 3600), dt.datetime.fromtimestamp(hour * 3600 + 3599)
    except (OverflowError, OSError, ValueError):  # year 1 or 9999 near the edge of the range
        return ""
    return first.date().isoformat() if first.date() == last.date() else ""


def _local_day(ts: dt.datetime) -> str:
    """One entry's local date; its UTC date where the local one is out of range."""
    try:
        return ts.astimezone().date().isoformat()
    except (OverflowError, OSError, ValueError):
        return ts.date().isoformat()


class FileResult(NamedTuple):
    job: FileJob
    progress: lines.Progress
    task: str | None
    tier: str | None
    usage: list[int]  # the keys of the usage entries (hashed: see ledger/keyruns.py), in order
    values: array[int]  # per entry VALUES ints: index into rkeys, then Rollup's sums for one entry
    rkeys: list[UsageKey]
    prompts: list[int]  # the keys of the prompts, hashed
    pvalues: array[int]  # per prompt: index into pkeys
    pkeys: list[PromptKey]
    repeats: int  # usage lines that repeated the line before (same message and request)
    rollup: Rollup  # the sums of this file's and earlier ones' entries when handed over (see Reader.take)
    head: str  # the hash of the file's first bytes (see file_head), worked out here, off the main process
    rows: list[tuple[Any, ...]]  # whole usage rows (see ROW), when the Reader was asked for them
    error: str | None = None  # why the file could not be read (it is skipped, and tried again next run)
    # With the sums when handed over: the distinct usage keys of those files, sorted here, so
    # that the parent merges a few sorted runs instead of sorting every key at the end.
    run: array[int] | None = None


# The columns of a whole usage row, as `--import` reads them (see `entries`).
ROW = ("key", "ts", "day", "session", "project", "model", "sidechain", "input", "output", "cw5m", "cw1h",
       "cache_read", "cost", "task", "tier", "routed")  # fmt: skip
VALUES = 7  # ints per usage entry in FileResult.values
# One entry's VALUES ints as array("q") holds them: packed into a bytearray, then taken in
# whole, since array.extend converts and appends them one at a time (~4 µs an entry).
_PACK = struct.Struct(f"={VALUES}q").pack


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
        self.total = Rollup()  # the sums of every file read since the last `take`
        self.keys: list[int] = []  # and their usage keys

    def take(self) -> tuple[Rollup, array[int]]:
        """The sums of the files read since the last call (one merge in the parent for many
        files, not one per file), and their distinct usage keys, sorted."""
        total, self.total = self.total, Rollup()
        run, self.keys = array("q", sorted(set(self.keys))), []
        return total, run

    def _routed(self, tier: str | None) -> str | None:
        model = self.routed[tier] = routed_model(self.reg, tier)
        return model

    def __call__(self, job: FileJob) -> FileResult:
        progress = lines.Progress(job.offset)
        try:
            f = open(job.path, "rb")  # noqa: SIM115 - closed below
        except OSError as e:  # gone since it was listed, or not ours to read
            shown = lines.spelled(job.path)
            return FileResult(job, progress, job.task, job.tier, [], array("q"), [], [], array("q"), [], 0,
                              Rollup(), "", [], f"{shown}: {e.strerror or e}")  # fmt: skip
        try:
            return self._read(job, f, progress)
        finally:
            f.close()

    def _read(self, job: FileJob, f: BinaryIO, progress: lines.Progress) -> FileResult:
        task, tier = job.task, job.tier
        keys: list[int] = []
        packed = bytearray()
        rkeys: dict[UsageKey, int] = {}
        prompts: list[int] = []
        pvalues = array("q")
        pkeys: dict[PromptKey, int] = {}
        rows: list[tuple[Any, ...]] = []
        same = self.same
        rollup = self.total
        last, repeats = None, 0
        for entry in parse.read(f, progress):
            ts = entry[1]  # Usage and Prompt both start (key, ts)
            if ts.tzinfo is UTC:  # as Claude Code writes them ("...Z"): the fields are UTC already
                hour = ts.toordinal() * 24 + ts.hour - EPOCH_HOURS  # ~0.2 µs, not ~0.4 by timestamp()
            else:
                hour = int(ts.timestamp()) // 3600
            day = self.days.get(hour)
            if day is None:  # the local date, worked out once per hour of timestamps
                day = self.days[hour] = _hour_day(hour)
            if not day:  # local midnight falls in this hour (a zone offset by a part of an hour)
                day = _local_day(ts)
            if isinstance(entry, lines.Prompt):
                text = entry.text
                route = self.routes.get(text) if len(text) <= ROUTE_KEPT_CHARS else None
                if route is None:
                    route = self.classifier.route(text)
                    if len(text) <= ROUTE_KEPT_CHARS:
                        if len(self.routes) > ROUTES_KEPT:
                            self.routes.clear()
                        self.routes[text] = route
                task, tier = route
                pk = (day, task, tier)
                i = pkeys.get(pk)
                if i is None:
                    i = pkeys[pk] = len(pkeys)
                prompts.append(key_hash(entry.key))
                pvalues.append(i)
                rollup.prompts[pk] = rollup.prompts.get(pk, 0) + 1
                continue
            key, _, session, project, model, sidechain, n_in, n_out, w5, w1, cr = entry  # a Usage
            if key == last:  # Claude Code repeats the usage on every content-block line
                repeats += 1
                continue
            last = key
            rates = self.rates.get((model, day, tier))
            if rates is None:
                routed = self.routed.get(tier) if tier in self.routed else self._routed(tier)
                price, routed_price = (
                    self.prices.get(model, day),
                    self.prices.get(routed, day) if routed else None,
                )
                rates = self.rates[(model, day, tier)] = (
                    rates_of(price) if price else None,
                    rates_of(routed_price) if routed_price else None,
                )
            rate, routed_rate = rates
            cost = priced(rate, n_in, n_out, w5, w1, cr) if rate else 0
            routed_cost = priced(routed_rate, n_in, n_out, w5, w1, cr) if routed_rate else cost
            rk = (day, model, task or "", tier or "")
            i = rkeys.get(rk)
            if i is None:
                i = rkeys[rk] = len(rkeys)
            keys.append(key_hash(key))
            packed += _PACK(i, n_in, n_out, w5 + w1, cr, cost, routed_cost)
            sums = rollup.usage.get(rk)  # Rollup.add, inline: this runs for every entry
            if sums is None:  # the sums run across files (see take)
                sums = rollup.usage[rk] = [0] * VALUES
            sums[0] += 1
            sums[1] += n_in
            sums[2] += n_out
            sums[3] += w5 + w1
            sums[4] += cr
            sums[5] += cost
            sums[6] += routed_cost
            if self.rows:  # one string object per distinct session, project, model: less memory
                one_session, one_project, one_model = (
                    same.setdefault(v, v) for v in (session, project, model)
                )
                rows.append(
                    (key, ts.isoformat(), day, one_session, one_project, one_model,
                     int(sidechain), n_in, n_out, w5, w1, cr, cost, task, tier, routed_cost)
                )  # fmt: skip
        values = array("q")
        values.frombytes(packed)
        self.keys += keys
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
            Rollup(),
            job.head or file_head(f, progress.offset),
            rows,
        )
