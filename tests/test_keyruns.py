"""The audit's key store: sorted runs of hashes, appended, merged when too many."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from codetier import ledger
from codetier.ledger import keyruns
from codetier.ledger.keyruns import USAGE, KeyRuns, key_hash


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = ledger.connect(tmp_path / "ledger.db")
    yield conn
    conn.close()


def test_the_hash_is_a_stored_format_and_never_changes() -> None:
    # Ledgers already hold these: a different hash would count every entry again.
    assert key_hash("msg_01:req_01") == key_hash("msg_01:req_01")
    assert key_hash("msg_01:req_01") == -7366176899223727791
    assert key_hash("é") == 3394012004367669963  # its UTF-8
    assert key_hash("\ud800x") == -6303802588074983858  # a lone surrogate: its three bytes
    assert -(2**63) <= key_hash("x") < 2**63


def test_keys_added_in_runs_are_found_again_after_reopening(db: sqlite3.Connection) -> None:
    first = {key_hash(f"m{i}") for i in range(100)}
    KeyRuns(db, USAGE).add(first)
    runs = KeyRuns(db, USAGE)
    later = {key_hash(f"m{i}") for i in range(90, 120)}
    assert runs.new(later) == {key_hash(f"m{i}") for i in range(100, 120)}
    runs.add(runs.new(later))
    again = KeyRuns(db, USAGE)
    assert len(again) == 120 and len(again.runs) == 2
    assert all(key_hash(f"m{i}") in again for i in range(120))
    assert key_hash("m120") not in again
    assert len(KeyRuns(db, keyruns.PROMPT)) == 0  # kinds are apart


def test_runs_past_the_limit_merge_into_one_and_keep_every_key(db: sqlite3.Connection) -> None:
    for r in range(keyruns.MAX_RUNS + 1):
        KeyRuns(db, USAGE).add({key_hash(f"{r}-{i}") for i in range(10)})
    merged = KeyRuns(db, USAGE)
    assert len(merged.runs) == 1 and len(merged) == 10 * (keyruns.MAX_RUNS + 1)
    assert list(merged.runs[0]) == sorted(merged.runs[0])
    assert all(key_hash(f"{r}-{i}") in merged for r in range(keyruns.MAX_RUNS + 1) for i in range(10))


def test_adding_nothing_writes_no_run(db: sqlite3.Connection) -> None:
    KeyRuns(db, USAGE).add(set())
    assert db.execute("SELECT COUNT(*) FROM audit_key_runs").fetchone() == (0,)


@pytest.mark.parametrize("probes", [1, 5, 300])  # few: binary search; many: one set of the stored
def test_new_gives_the_same_answer_either_way(db: sqlite3.Connection, probes: int) -> None:
    runs = KeyRuns(db, USAGE)
    runs.add({key_hash(f"a{i}") for i in range(200)})
    runs.add({key_hash(f"b{i}") for i in range(200)})
    asked = {key_hash(f"a{i}") for i in range(min(probes, 200))} | {key_hash(f"c{i}") for i in range(probes)}
    assert runs.new(asked) == {key_hash(f"c{i}") for i in range(probes)}
