"""Reading many transcripts at once: forked readers, a spawned pool, the same report."""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from audit_support import audit, prompt_line, usage_line, write

from codetier import ledger


def serial_then_parallel(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    """The report read in this process; later audits start from a new ledger and read in parallel."""
    from codetier.audit import workers

    serial = audit(capsys)
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "other-home"))
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)
    return serial


def test_a_pool_of_processes_gives_the_same_report(
    claude: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:

    serial = serial_then_parallel(capsys, monkeypatch, tmp_path)
    pooled = audit(capsys)
    assert pooled["daily"] == serial["daily"] and pooled["routing"] == serial["routing"]
    assert pooled["scan"] == serial["scan"]


@pytest.mark.parametrize("how", ["sigchld ignored", "cannot fork"])
def test_forked_readers_give_the_same_report_however_children_go(
    claude: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    how: str,
) -> None:
    """SIGCHLD ignored (as some launchers leave it) reaps the children for us; a system out
    of processes cannot fork them: either way the report is the same, no fd is left open."""

    serial = serial_then_parallel(capsys, monkeypatch, tmp_path)
    before = set(os.listdir("/proc/self/fd"))
    was = signal.getsignal(signal.SIGCHLD)
    if how == "cannot fork":

        def no_fork() -> int:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

        monkeypatch.setattr(os, "fork", no_fork)
    else:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        other = audit(capsys)
    finally:
        signal.signal(signal.SIGCHLD, was)
    assert other["daily"] == serial["daily"] and other["routing"] == serial["routing"]
    assert other["scan"] == serial["scan"]
    assert set(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("batch", [1, 3])
def test_forked_readers_over_many_batches_take_back_repeated_prompts(
    claude: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    batch: int,
) -> None:
    """A resumed session copies its earlier lines (uuids too) into a new file: the copies are
    taken back before the forked readers have sent their sums, which come with their last batch."""
    from codetier.audit import workers

    first = [prompt_line("design the architecture of the plugin system", "2026-11-21T09:00:00Z", "u-shared"),
             usage_line("s1", "rs1", "claude-opus-5", "2026-11-21T09:00:05Z", 7, 7)]  # fmt: skip
    for i in range(12):
        write(claude / "projects" / "-work-app" / f"resumed-{i:02d}.jsonl", first)
    serial = serial_then_parallel(capsys, monkeypatch, tmp_path)
    monkeypatch.setattr(workers, "BATCH", batch)
    forked = audit(capsys)
    assert forked["daily"] == serial["daily"] and forked["routing"] == serial["routing"]
    assert forked["scan"] == serial["scan"]
    assert serial["scan"]["new_prompts"] == 4  # u1, u2, u3 and one copy of u-shared


def test_a_worker_failure_reaches_the_caller_and_writes_nothing(
    claude: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codetier.audit import discover, ingest, reader, workers
    from codetier.cli.common import load

    real = reader.Reader.__call__

    def failing(self: reader.Reader, job: reader.FileJob) -> reader.FileResult:
        if job.path.endswith("agent-a.jsonl"):
            raise PermissionError(f"{job.path}: permission denied")
        return real(self, job)

    monkeypatch.setattr(reader.Reader, "__call__", failing)
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)  # forked workers (they inherit the patch)
    db = ledger.connect()
    try:
        with pytest.raises(PermissionError, match=r"agent-a\.jsonl"):
            ingest.ingest(db, discover.roots(), load()[1])
        assert db.execute("SELECT COUNT(*) FROM audit_key_runs").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM audit_files").fetchone() == (0,)
    finally:
        db.close()


def test_with_other_threads_running_a_spawned_pool_reads_the_same(
    claude: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Forking with other threads running is unsafe: the spawn pool takes over, same report."""
    import threading

    serial = serial_then_parallel(capsys, monkeypatch, tmp_path)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    spawned = audit(capsys)
    assert spawned["daily"] == serial["daily"] and spawned["scan"] == serial["scan"]


def test_tasks_are_files_in_order_cut_by_new_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each task ends at the first file that brings it to BATCH_BYTES new bytes (or BATCH
    files), so the readers, taking every nth task, get about the same to read."""
    from codetier.audit import workers
    from codetier.audit.changes import FileJob

    monkeypatch.setattr(workers, "BATCH_BYTES", 100)
    monkeypatch.setattr(workers, "BATCH", 4)
    sizes = [
        (30, 0),
        (80, 0),
        (500, 0),
        (10, 0),
        (10, 0),
        (10, 0),
        (10, 0),
        (10, 0),
        (90, 40),
        (60, 0),
        (5, 0),
    ]
    jobs = [FileJob(f"f{i}", i, offset, None, None, size=size) for i, (size, offset) in enumerate(sizes)]
    tasks = workers.batches(jobs)
    assert [[int(j.path[1:]) for j in t] for t in tasks] == [[0, 1], [2], [3, 4, 5, 6], [7, 8, 9], [10]]
    assert workers.batches([]) == []


def test_a_readers_pipe_holds_more_than_the_default() -> None:
    import fcntl

    from codetier.audit import workers

    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < workers.PIPE_BYTES and os.geteuid():
        pytest.skip("pipes this large are not allowed here")
    read_fd, write_fd = os.pipe()
    try:
        default = fcntl.fcntl(read_fd, fcntl.F_GETPIPE_SZ)
        workers._widen(read_fd)
        assert fcntl.fcntl(read_fd, fcntl.F_GETPIPE_SZ) == workers.PIPE_BYTES > default
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_keys_are_stored_in_order_from_the_readers_runs() -> None:
    from array import array

    from codetier.audit.ingest import _in_order

    runs = [array("q", [-5, 1, 9, 40]), array("q", [1, 2, 9]), array("q", [])]
    assert _in_order(runs, {-5, 1, 2, 9, 40}) == [-5, 1, 2, 9, 40]
    assert _in_order(runs, {1, 40}) == [1, 40]  # keys stored by earlier runs are not in `keys`
    assert _in_order(runs, {1, 3}) is None  # 3 in no run: the caller sorts `keys` itself
    assert _in_order([], set()) == []


def test_forked_readers_store_the_same_sorted_keys(
    claude: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The stored run is the same whether the keys were sorted here or merged from the
    forked readers' runs (which this run does use: `_in_order` gives them in order)."""
    from codetier.audit import ingest, workers
    from codetier.ledger.keyruns import PROMPT, USAGE, KeyRuns

    def stored() -> dict[str, list[list[int]]]:
        db = ledger.connect()
        try:
            return {kind: [list(run) for run in KeyRuns(db, kind).runs] for kind in (USAGE, PROMPT)}
        finally:
            db.close()

    audit(capsys)
    serial = stored()
    merged: list[list[int] | None] = []
    real = ingest._in_order
    monkeypatch.setattr(ingest, "_in_order", lambda runs, keys: merged.append(real(runs, keys)) or merged[-1])
    monkeypatch.setattr(workers, "PARALLEL_BYTES", 0)
    monkeypatch.setenv("CODETIER_HOME", str(tmp_path / "forked-home"))
    audit(capsys)
    assert stored() == serial and len(serial[USAGE]) == 1 and len(serial[USAGE][0]) > 3
    assert serial[USAGE][0] == sorted(set(serial[USAGE][0]))
    assert merged == [serial[USAGE][0]]
