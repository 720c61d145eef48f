"""Reading many files at once: forked readers over pipes (or a spawn pool
when threads are running), each file's results handed back in order."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from typing import Any

from codetier.audit import forks
from codetier.audit.changes import FileJob
from codetier.audit.reader import FileResult, Reader
from codetier.registry import Registry

# Past this many new bytes, files are parsed by a pool of processes (one per core).
PARALLEL_BYTES = 32_000_000
# A task sent to the pool: files in order, up to about this many new bytes or this many
# files. Tasks of like size keep the readers in step: each reads every nth task, and the
# parent takes results in order, so a reader with less to do would wait on a full pipe.
BATCH_BYTES = 1 << 20
BATCH = 64
PIPE_BYTES = 1 << 20  # room in each reader's pipe for results the parent has not taken yet

_reader: Reader | None = None
Children = list[tuple[forks.Child, Any]]  # each with the read end of its pipe


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


def _work(batch: list[FileJob], hand_over: bool = True) -> tuple[list[FileResult], tuple[str, ...]]:
    """A few files read in a worker; with `hand_over`, the sums of every file it read since
    the last hand-over travel with the last of them (see Reader.take)."""
    assert _reader is not None
    results = [_reader(job) for job in batch]
    if hand_over and results:
        rollup, run = _reader.take()
        results[-1] = results[-1]._replace(rollup=rollup, run=run)
    return results, tuple(_reader.prices.unpriced)


def _to_read(job: FileJob) -> int:
    return max((os.stat(job.path).st_size if job.size is None else job.size) - job.offset, 0)


def new_bytes(jobs: list[FileJob]) -> int:
    """How many bytes `jobs` have to read."""
    return sum(_to_read(j) for j in jobs)


def batches(jobs: list[FileJob]) -> list[list[FileJob]]:
    """`jobs` in order, cut into tasks of about BATCH_BYTES new bytes, at most BATCH files."""
    out: list[list[FileJob]] = []
    batch: list[FileJob] = []
    size = 0
    for job in jobs:
        batch.append(job)
        size += _to_read(job)
        if size >= BATCH_BYTES or len(batch) >= BATCH:
            out.append(batch)
            batch, size = [], 0
    if batch:
        out.append(batch)
    return out


def _results(
    jobs: list[FileJob], reg: Registry, unpriced: set[str], rows: bool = False
) -> Iterator[FileResult]:
    """Each file's rows, in order; in a pool of processes when there is a lot to read."""
    todo = new_bytes(jobs)
    cores = os.cpu_count() or 1
    if todo < PARALLEL_BYTES or cores < 2 or len(jobs) < 2:
        yield from _here(jobs, reg, rows, unpriced)
        return
    tasks = batches(jobs)
    if forks.safe():
        children = _fork(tasks, reg, rows, min(cores, 8))
        if children is None:  # cannot fork now: read them here
            yield from _here(jobs, reg, rows, unpriced)
        else:
            yield from _collect(children, len(tasks), unpriced)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(min(cores, 8), _init_worker, (reg, rows)) as pool:
        for results, missing in pool.imap(_work, tasks):
            unpriced.update(missing)
            yield from results


def _here(jobs: list[FileJob], reg: Registry, rows: bool, unpriced: set[str]) -> Iterator[FileResult]:
    """Each file read in this process."""
    reader = Reader(reg, rows)
    held = None  # each result is held back one file, so that the last can carry the sums
    for job in jobs:
        result = reader(job)
        if held is not None:
            yield held
        held = result
    if held is not None:
        rollup, run = reader.take()
        yield held._replace(rollup=rollup, run=run)
    unpriced.update(reader.prices.unpriced)


def _fork(batches: list[list[FileJob]], reg: Registry, rows: bool, n: int) -> Children | None:
    """`n` forked children, child k reading batches k, k+n, ... and sending its results
    down a pipe; None (and no child left) when the system cannot fork now. Lighter than a
    multiprocessing.Pool, whose three helper threads cost the parent ~0.5 s of CPU here."""
    import pickle

    children: Children = []
    try:
        for k in range(n):
            read_fd, write_fd = os.pipe()
            try:
                child = forks.fork()
            except OSError:
                os.close(read_fd)
                os.close(write_fd)
                _end(children)
                return None
            if child is None:  # the child: never returns
                code = 0
                try:
                    os.close(read_fd)
                    for _, f in children:
                        f.close()
                    _init_worker(reg, rows)
                    mine = batches[k::n]
                    with os.fdopen(write_fd, "wb") as out:
                        for j, batch in enumerate(mine):
                            try:
                                # The sums travel once, with this child's last batch: the
                                # parent then merges n rollups, not one per batch.
                                results, missing = _work(batch, hand_over=j == len(mine) - 1)
                                message: tuple[Any, ...] = (results, missing, None)
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
            _widen(read_fd)
            children.append((child, os.fdopen(read_fd, "rb")))
    except BaseException:
        _end(children)
        raise
    return children


def _widen(fd: int) -> None:
    """A pipe of PIPE_BYTES where Linux allows it (64 KB otherwise): a reader a few tasks
    ahead goes on reading instead of waiting for the parent to take its results."""
    import fcntl

    with contextlib.suppress(AttributeError, OSError):  # not Linux, or past pipe-max-size
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _collect(children: Children, batches: int, unpriced: set[str]) -> Iterator[FileResult]:
    """The children's results, batch by batch in order; the children ended and reaped after."""
    import pickle

    n = len(children)
    try:
        for i in range(batches):
            try:
                results, missing, error = pickle.load(children[i % n][1])
            except EOFError:
                raise RuntimeError("an audit worker process died") from None
            if error is not None:
                raise error
            unpriced.update(missing)
            yield from results
    finally:
        _end(children)


def _end(children: Children) -> None:
    """Every pipe closed first: a child cut off from the parent ends by itself, even if a
    Ctrl-C here leaves it unstopped."""
    for _, f in children:
        f.close()
    for child, _ in children:
        child.stop()
