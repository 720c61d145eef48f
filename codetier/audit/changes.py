"""What is new since the last audit: each transcript's inode and size against the
offset, inode and first-bytes hash the audit tables keep for it.

A repeat audit lists and stats thousands of files (~15 ms) and reads their rows
from the ledger before it knows the few that grew; it also spends ~40 ms
importing what reads them. `PendingChild` works the first part out in a forked child
while the CLI imports, on the second core. This module stays light (no msgspec)
so that the child starts at once.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from codetier.audit import discover, forks

try:  # the builtin module itself: hashlib would also load OpenSSL, ~3 ms for nothing here
    from _sha1 import sha1  # type: ignore[import-not-found, unused-ignore]  # no stubs
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import sha1

HEAD = 512  # bytes of a file's start hashed to notice a rewrite

# path -> (inode, size, offset, head, task, tier), as audit_files has them
Known = dict[str, tuple[int, int, int, str, str | None, str | None]]


class FileJob(NamedTuple):
    path: str  # a plain string: a repeat run lists thousands
    inode: int
    offset: int
    task: str | None  # the last prompt's routing, carried across runs
    tier: str | None
    head: str | None = None  # the stored hash, when it already covers HEAD bytes
    size: int | None = None  # as listed


def file_head(f: BinaryIO, upto: int) -> str:
    """A hash of the bytes already read (at most HEAD of them) of an open file: a rewritten
    file differs. Read from the handle, not the path: a file deleted since it was opened
    still has its bytes."""
    return str(sha1(os.pread(f.fileno(), min(HEAD, upto), 0)).hexdigest())


def _head_or_none(path: str, upto: int) -> str | None:
    """file_head, or None when the file cannot be read now (the reader says so)."""
    try:
        with open(path, "rb") as f:
            return file_head(f, upto)
    except OSError:
        return None


def as_stored(path: str) -> str | bytes:
    """A path as audit_files keeps it: its text, or its bytes when the name is not UTF-8
    (undecodable bytes come to us as surrogates, which SQLite's text cannot hold)."""
    if not path.isascii():
        try:
            path.encode()
        except UnicodeEncodeError:
            return os.fsencode(path)
    return path


def known(db: sqlite3.Connection) -> Known:
    return {
        row[0] if type(row[0]) is str else os.fsdecode(row[0]): row[1:]
        for row in db.execute("SELECT path, inode, size, offset, head, task, tier FROM audit_files")
    }


def pending(seen: Known, listed: Iterable[tuple[str, int, int]]) -> tuple[int, list[FileJob]]:
    """(how many files are listed, those with something new, each from where the last
    run stopped)."""
    files, jobs = 0, []
    for path, inode, size in listed:
        files += 1
        if size < 0:  # cannot be stat'ed
            continue
        offset, task, tier, head = 0, None, None, None
        if path in seen:
            was_inode, was_size, offset, head, task, tier = seen[path]
            if size == was_size and inode == was_inode:
                continue  # unchanged since the last run
            if inode != was_inode or size < offset or _head_or_none(path, offset) not in (head, None):
                offset, task, tier, head = 0, None, None, None  # replaced or rewritten: read it again
        jobs.append(FileJob(path, inode, offset, task, tier, head if offset >= HEAD else None, size))
    return files, jobs


def _pending_at(ledger: Path, paths: Sequence[Path]) -> tuple[int, list[tuple[object, ...]]]:
    """`pending` for the child, the ledger opened read-only as it stands: one not made
    yet, or older than the audit tables, knows nothing; any other failure is the
    child's, and the caller works it all out itself. Plain tuples, for marshal."""
    seen: Known = {}
    if ledger.exists():
        db = sqlite3.connect(f"{ledger.absolute().as_uri()}?mode=ro", uri=True)
        try:
            seen = known(db)
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
        finally:
            db.close()
    files, jobs = pending(seen, discover.stats(paths))
    return files, [tuple(j) for j in jobs]


class PendingChild:
    """`pending` for `paths` against `ledger`, worked out by a forked child while this
    process goes on. Forks only where that is safe and helps (see forks.safe; a second
    core); otherwise, or when the fork or the child fails, `result` gives None and the
    caller works it out itself (so a missing path is the same error either way)."""

    def __init__(self, ledger: Path, paths: Sequence[Path]) -> None:
        self.child: forks.Child | None = None
        self.fd = -1
        if not forks.safe() or (os.cpu_count() or 1) < 2:
            return
        read_fd, write_fd = os.pipe()
        try:
            child = forks.fork()
        except OSError:  # out of processes or memory: the caller does it itself
            os.close(read_fd)
            os.close(write_fd)
            return
        if child is None:  # the child: never returns
            code = 1
            try:
                os.close(read_fd)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(marshal.dumps(_pending_at(ledger, paths)))  # ours to ours
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        self.child, self.fd = child, read_fd

    @property
    def pid(self) -> int:
        """The child's pid while it is held, else 0."""
        return self.child.pid if self.child else 0

    def result(self) -> tuple[int, list[FileJob]] | None:
        """What `pending` gives, or None if the child did not work it out."""
        if self.child is None:
            return None
        fd, self.fd = self.fd, -1  # closed below, come what may
        with os.fdopen(fd, "rb") as f:
            data = f.read()
        status = self.child.wait()
        self.child = None
        # None: reaped for us, status unknown; the data tells (written whole or not at all)
        if status:
            return None
        try:
            files, jobs = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None
        return files, [FileJob._make(j) for j in jobs]

    def close(self) -> None:
        """Stop and reap the child if `result` was never asked for (or was cut short)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.child is not None:
            self.child.stop()
            self.child = None
