"""What is new since the last audit: listed here, or by a forked child while the CLI imports."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from codetier import ledger
from codetier.audit import changes, discover
from codetier.cli import main
from codetier.cli.audit_run import render
from codetier.paths import ledger_path

FORKS = hasattr(os, "fork") and (os.cpu_count() or 1) >= 2
LINE = (
    '{"type":"assistant","timestamp":"2026-11-20T10:00:01Z","requestId":"r%d","sessionId":"s",'
    '"message":{"id":"m%d","model":"claude-opus-5","usage":{"input_tokens":10,"output_tokens":5}}}\n'
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "projects"
    for rel, n in [("-w/s1.jsonl", 1), ("-w/s1/subagents/agent-a.jsonl", 2), ("-v/s2.jsonl", 3),
                   ("-v/s3.jsonl", 4)]:  # fmt: skip
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LINE % (n, n))
    (root / "-w" / "notes.txt").write_text("not a transcript")
    (root / "-w" / "gone.jsonl").symlink_to(root / "nowhere")  # listed, cannot be stat'ed
    return root


def in_process(paths: list[Path]) -> tuple[int, list[changes.FileJob]]:
    db = ledger.connect()
    try:
        return changes.pending(changes.known(db), discover.stats(paths))
    finally:
        db.close()


def walked(root: Path) -> list[str]:
    """What os.walk finds, in order: the listing stats() must give."""
    found = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames.sort()
        found += [os.path.join(dirpath, n) for n in names if n.endswith(".jsonl")]
    return sorted(found)


def test_stats_lists_what_os_walk_finds_with_inode_and_size(tree: Path) -> None:
    listed = list(discover.stats([tree]))
    assert [p for p, _, _ in listed] == walked(tree)
    assert listed[0][0].endswith("-v/s2.jsonl") and listed[-1][0].endswith("s1/subagents/agent-a.jsonl")
    assert (str(tree / "-w" / "gone.jsonl"), 0, -1) in listed
    st = os.stat(tree / "-v" / "s2.jsonl")
    assert (str(tree / "-v" / "s2.jsonl"), st.st_ino, st.st_size) in listed


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_the_child_finds_what_a_repeat_run_would(tree: Path) -> None:
    assert main(["audit", "--json", str(tree)]) == 0  # the ledger knows every file now
    grown, replaced = tree / "-w" / "s1.jsonl", tree / "-v" / "s2.jsonl"
    size = grown.stat().st_size
    with grown.open("a") as f:
        f.write(LINE % (6, 6))
    replaced.unlink()
    replaced.write_text(LINE % (7, 7) + LINE % (8, 8))  # a new file (and inode) by the same name
    early = changes.PendingChild(ledger_path(), [tree])
    assert early.pid  # it forked
    got = early.result()
    assert got == in_process([tree])
    files, jobs = got
    assert files == 5
    assert {(Path(j.path).name, j.offset) for j in jobs} == {("s1.jsonl", size), ("s2.jsonl", 0)}
    early.close()  # nothing left to reap


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_with_no_ledger_yet_everything_is_new_and_none_is_made(tree: Path) -> None:
    got = changes.PendingChild(ledger_path(), [tree]).result()
    assert not ledger_path().exists()
    assert got is not None and got[0] == 5
    assert sorted(j.path for j in got[1]) == sorted(p for p, _, size in discover.stats([tree]) if size >= 0)
    assert all(j.offset == 0 for j in got[1])


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_a_ledger_older_than_the_audit_tables_knows_nothing(tree: Path) -> None:
    ledger_path().parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(ledger_path()).execute("CREATE TABLE migrations (name TEXT)").connection.close()
    got = changes.PendingChild(ledger_path(), [tree]).result()
    assert got is not None and len(got[1]) == 4


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_a_ledger_the_child_cannot_read_is_left_to_the_caller(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path().parent.mkdir(parents=True, exist_ok=True)
    ledger_path().write_bytes(b"not a database" * 100)
    assert changes.PendingChild(ledger_path(), [tree]).result() is None
    assert main(["audit", str(tree)]) == 2  # the CLI's own, clear error
    assert "cannot be used: file is not a database" in capsys.readouterr().err


def test_with_other_threads_running_it_does_not_fork(tree: Path) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        early = changes.PendingChild(ledger_path(), [tree])
        assert early.pid == 0 and early.result() is None
    finally:
        stop.set()
        other.join()


def test_a_missing_path_is_the_same_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    early = changes.PendingChild(ledger_path(), [tmp_path / "nowhere"])
    assert bool(early.pid) == FORKS
    assert early.result() is None  # the child failed (or there was none)
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip().endswith("nowhere: no such file or directory")


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_close_reaps_a_child_never_asked(tree: Path) -> None:
    early = changes.PendingChild(ledger_path(), [tree])
    pid = early.pid
    assert pid
    early.close()
    assert early.pid == 0 and early.fd == -1
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped already


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_when_the_system_cannot_fork_the_caller_works_it_out(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_fork() -> int:  # what fork gives at RLIMIT_NPROC
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    before = open_fds()
    with monkeypatch.context() as m:
        m.setattr(os, "fork", no_fork)
        early = changes.PendingChild(ledger_path(), [tree])
        assert early.pid == 0 and early.result() is None
        assert main(["audit", "--json", str(tree)]) == 0
    assert open_fds() == before  # the pipe was closed
    assert json.loads(capsys.readouterr().out)["totals"]["entries"] == 4


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_with_sigchld_ignored_the_child_is_still_used(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Some launchers leave SIGCHLD ignored (it survives exec): children are then reaped by
    the system, and waiting for one finds none."""
    was = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        early = changes.PendingChild(ledger_path(), [tree])
        assert early.pid
        got = early.result()
        assert got is not None and got[0] == 5
        early.close()
        assert main(["audit", "--json", str(tree)]) == 0
    finally:
        signal.signal(signal.SIGCHLD, was)
    assert json.loads(capsys.readouterr().out)["totals"]["entries"] == 4


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
def test_an_interrupted_wait_leaves_no_child_and_no_fd(tree: Path) -> None:
    """Ctrl-C while waiting for the child: close() ends and reaps it, and raises nothing."""
    ledger_path().parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(ledger_path())  # the child blocks opening it: no writer ever comes
    before = open_fds()

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    was = signal.signal(signal.SIGALRM, interrupt)
    early = changes.PendingChild(ledger_path(), [tree])
    pid = early.pid
    try:
        assert pid
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            early.result()
        early.close()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, was)
        if pid and early.pid:  # close() failed: never leave the child stuck on the fifo
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert early.pid == 0 and open_fds() <= before
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped


def test_a_file_cut_short_in_place_is_read_again_from_the_start(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Truncated below the stored offset (same inode, same first bytes) and written again:
    the new lines after the cut must not be skipped."""
    f = tree / "-w" / "s1.jsonl"
    f.write_text("".join(LINE % (i, i) for i in range(10, 20)))
    assert main(["audit", "--json", str(tree)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["entries"] == 13
    with f.open("r+") as h:
        h.truncate(len(LINE % (10, 10)) * 5)  # five lines kept: more than HEAD bytes
    with f.open("a") as h:
        h.write(LINE % (99, 99))
    assert main(["audit", "--json", str(tree)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scan"]["new_entries"] == 1 and data["totals"]["entries"] == 14


def test_a_file_name_that_is_not_utf8_is_kept_and_read_once(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tree / "-w" / "b\udcff.jsonl"  # the bytes b"b\xff.jsonl", as Python names them
    odd.write_text(LINE % (9, 9))
    assert main(["audit", "--json", str(tree)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["totals"]["entries"] == 5 and first["scan"]["files_read"] == 5
    db = ledger.connect()
    assert changes.known(db)[str(odd)][1] == odd.stat().st_size
    db.close()
    assert main(["audit", "--json", str(tree)]) == 0  # nothing new: that file is known
    assert json.loads(capsys.readouterr().out)["scan"]["files_read"] == 0


def test_lines_with_no_id_in_such_a_file_are_audited_and_imported(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tree / "-w" / "b\udcff.jsonl"
    no_id = LINE.replace('"requestId":"r%d",', "").replace('"id":"m%d",', "")
    prompt = '{"type":"user","timestamp":"2026-11-20T10:00:00Z","message":{"role":"user","content":"write tests"}}\n'
    odd.write_text(prompt + no_id)  # each keyed by its file and offset: b\xff.jsonl:0 and so on
    assert main(["audit", "--json", "--import", str(tree)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["entries"] == 5 and data["imported"] == 5


def test_import_skips_a_listed_file_that_cannot_be_read(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (tree / "-w" / "gone.jsonl").is_symlink()  # a link to nothing
    assert main(["audit", "--json", "--import", str(tree)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scan"]["files"] == 5 and data["imported"] == 4


def test_a_fifo_is_not_listed_and_named_alone_is_a_clear_error(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tree / "-w" / "pipe.jsonl"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for good
    assert str(fifo) not in {p for p, _, _ in discover.stats([tree])}
    assert main(["audit", str(fifo)]) == 2
    assert capsys.readouterr().err.strip().endswith("pipe.jsonl: not a regular file or directory")


@pytest.mark.skipif(not FORKS, reason="forks on two cores")
@pytest.mark.parametrize(("rel", "n"), [("-v/s3.jsonl", 4), ("-w/s1/subagents/agent-a.jsonl", 2)],
                         ids=["a middle file", "the last file"])  # fmt: skip
def test_a_file_gone_between_listing_and_reading_is_skipped_and_named(tree: Path, rel: str, n: int) -> None:
    """Claude Code may delete a session while the audit runs: the file is listed (here by
    the forked child, waited for until it is done) and gone when the reader opens it. The
    last file read carries the sums of those before it (see Reader.take): kept all the same."""
    from codetier.audit import pipeline
    from codetier.cli.common import load

    early = changes.PendingChild(ledger_path(), [tree])
    assert early.pid  # it forked: the child lists the files
    deadline = time.monotonic() + 30
    while Path(f"/proc/{early.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not finish"
        time.sleep(0.01)
    gone = tree / rel
    gone.unlink()
    try:
        data = pipeline.audit([tree], None, load()[1], early=early)
    finally:
        early.close()
    assert data["scan"]["unreadable"] == [f"{gone}: No such file or directory"]
    assert data["scan"]["files_read"] == 3 and data["totals"]["entries"] == 3
    assert data["totals"]["input_tokens"] == 30 and data["totals"]["output_tokens"] == 15  # the others'
    shown = io.StringIO()
    render(data, shown, color=False)
    assert f"could not read {gone}: No such file or directory (tried again next run)" in " ".join(
        shown.getvalue().split()
    )
    gone.write_text(LINE % (n, n))  # back: it was not stored, so it is read next run
    again = pipeline.audit([tree], None, load()[1])
    assert again["scan"]["unreadable"] == [] and again["totals"]["entries"] == 4
    assert again["totals"]["input_tokens"] == 40


def test_a_file_deleted_while_it_is_read_is_read_to_the_end(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open file keeps its bytes: one deleted after the reader opened it is read whole,
    its first bytes hashed from the open file, not looked up again by name."""
    from codetier.audit import parse, pipeline
    from codetier.cli.common import load

    gone, read = tree / "-v" / "s3.jsonl", parse.read

    def deleting(f: Any, progress: Any) -> Any:
        for i, entry in enumerate(read(f, progress)):
            if i == 0 and f.name == str(gone):
                gone.unlink()
            yield entry

    monkeypatch.setattr(parse, "read", deleting)
    data = pipeline.audit([tree], None, load()[1])
    assert not gone.exists()
    assert data["scan"]["unreadable"] == [] and data["scan"]["files_read"] == 4
    assert data["totals"]["entries"] == 4
