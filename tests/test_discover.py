"""Listing transcripts: in this process, or by a forked child while the audit imports."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from codetier.audit import discover
from codetier.errors import UsageError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "projects"
    for rel, text in [
        ("-w/s1.jsonl", "{}\n"),
        ("-w/s1/subagents/agent-a.jsonl", "{}\n{}\n"),
        ("-w/notes.txt", "not a transcript"),
        ("-v/s2.jsonl", ""),
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "-w" / "gone.jsonl").symlink_to(root / "nowhere")  # listed, cannot be stat'ed
    (root / "-w" / "b\udcff.jsonl").write_text("{}\n")  # a name that is not UTF-8
    return root


def expected(root: Path) -> list[tuple[str, int, int]]:
    out = []
    for path in discover.files([root]):
        try:
            st = os.stat(path)
        except OSError:
            out.append((path, 0, -1))
        else:
            out.append((path, st.st_ino, st.st_size))
    return out


def test_stats_lists_what_files_lists_with_inode_and_size(tree: Path) -> None:
    listed = list(discover.stats([tree]))
    assert listed == expected(tree)
    assert [p for p, _, _ in listed] == list(discover.files([tree]))
    assert (str(tree / "-w" / "gone.jsonl"), 0, -1) in listed
    assert len(listed) == 5


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forks on two cores")
def test_a_forked_child_gives_the_same_listing(tree: Path) -> None:
    listing = discover.Listing([tree])
    assert listing.pid  # it forked
    listed = listing.result()
    assert isinstance(listed, list)  # the child's (in-process, stats() is a generator)
    assert listed == expected(tree)
    assert listing.pid == 0
    listing.close()  # nothing left to reap


def test_with_other_threads_running_it_lists_in_process(tree: Path) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        listing = discover.Listing([tree])
        assert listing.pid == 0
        assert list(listing.result()) == expected(tree)
    finally:
        stop.set()
        other.join()


def test_a_missing_root_is_the_same_clear_error_either_way(tmp_path: Path) -> None:
    listing = discover.Listing([tmp_path / "nowhere"])  # the child fails: listed here again
    with pytest.raises(UsageError, match="nowhere: no such file or directory"):
        list(listing.result())


def test_close_reaps_a_child_never_asked(tree: Path) -> None:
    listing = discover.Listing([tree])
    pid = listing.pid
    listing.close()
    assert listing.pid == 0
    if pid:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already
