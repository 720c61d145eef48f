"""Sets of keys kept as sorted runs of 64-bit hashes, for `codetier audit`.

A run of the audit appends its new keys as one blob (a few pages) instead of
inserting them into a B-tree, where random keys land on most of its pages and
every one of those pages is written again, to the WAL and then the database.
A lookup binary-searches each run; once a kind has more than MAX_RUNS runs
they are merged into one. Two different keys share a hash with probability
about n²/2⁶⁵: one in a hundred million for a million keys.
"""

from __future__ import annotations

import sqlite3
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable

try:  # the builtin module itself: hashlib would also load OpenSSL, ~3 ms for nothing here
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import blake2b

USAGE, PROMPT, IMPORTED = "usage", "prompt", "imported"
MAX_RUNS = 16


# A fresh 8-byte BLAKE2b state, copied per key: a third less time than parsing the
# constructor's keywords each time (it runs for every entry of every transcript).
_EMPTY = blake2b(digest_size=8)
_SIGNED = struct.Struct("<q").unpack


def key_hash(key: str) -> int:
    """A stable signed 64-bit hash of `key` (SQLite's integers are signed): the little-endian
    BLAKE2b-64 of its UTF-8. A lone surrogate (JSON allows "\\ud800") is hashed as its
    three bytes."""
    h = _EMPTY.copy()
    try:
        h.update(key.encode())  # the fast path: twice as fast as naming an error handler
    except UnicodeEncodeError:
        h.update(key.encode("utf-8", "surrogatepass"))
    return int(_SIGNED(h.digest())[0])


def _blob(keys: array[int]) -> bytes:
    if sys.byteorder == "big":  # stored little-endian
        keys = array("q", keys)
        keys.byteswap()
    return keys.tobytes()


def _keys(blob: bytes) -> array[int]:
    keys = array("q")
    keys.frombytes(blob)
    if sys.byteorder == "big":
        keys.byteswap()
    return keys


class KeyRuns:
    """The stored keys of one kind; read once, in the caller's transaction."""

    def __init__(self, db: sqlite3.Connection, kind: str) -> None:
        self.db, self.kind = db, kind
        self.runs = [
            _keys(blob)
            for (blob,) in db.execute("SELECT keys FROM audit_key_runs WHERE kind = ? ORDER BY id", (kind,))
        ]

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs)

    def __contains__(self, key: int) -> bool:
        for run in self.runs:
            i = bisect_left(run, key)
            if i < len(run) and run[i] == key:
                return True
        return False

    def keys(self) -> set[int]:
        return set().union(*self.runs)

    def new(self, keys: Collection[int]) -> set[int]:
        """Those of `keys` not stored yet: by binary search when they are few (a repeat
        run), else against one set of the stored keys (a file read again from the start)."""
        if len(keys) * len(self.runs) * 16 < len(self):
            stored = set()
            for run in self.runs:  # __contains__, inlined: a method call per key costs more
                n = len(run)
                for k in keys:
                    i = bisect_left(run, k)
                    if i < n and run[i] == k:
                        stored.add(k)
            return set(keys) - stored
        return set(keys) - self.keys()

    def add(self, keys: Iterable[int], in_order: Iterable[int] | None = None) -> None:
        """Store `keys` as a new run; merge the runs when too many. The caller passes only
        keys not stored yet (see `new`): counts and `--import` rely on each being stored once.
        `in_order`, if given, is the same keys sorted already."""
        run = array("q", sorted(keys) if in_order is None else in_order)
        if not run:
            return
        self.runs.append(run)
        if len(self.runs) <= MAX_RUNS:
            self.db.execute("INSERT INTO audit_key_runs (kind, keys) VALUES (?, ?)", (self.kind, _blob(run)))
            return
        merged = array("q", sorted(k for r in self.runs for k in r))
        self.db.execute("DELETE FROM audit_key_runs WHERE kind = ?", (self.kind,))
        self.db.execute("INSERT INTO audit_key_runs (kind, keys) VALUES (?, ?)", (self.kind, _blob(merged)))
        self.runs = [merged]
