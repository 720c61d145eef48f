from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from codetier import ledger
from codetier.ledger import db as ledger_db

GOLDEN = Path(__file__).parent / "golden" / "ledger_schema.sql"


def _row(i: int) -> ledger.Row:
    return ledger.Row(
        ts=dt.datetime.now(dt.UTC),
        source="cli",
        request_id=f"r{os.getpid()}-{i}",
        attempt=1,
        task="explain",
        tier="fast",
        provider="anthropic",
        outcome="ok",
        model="claude-haiku-5-5",
        input_tokens=10,
        output_tokens=5,
        cost_micros=3,
    )


def _writer(path: str, n: int) -> None:
    db = ledger.connect(Path(path))
    for i in range(n):
        ledger.record(db, _row(i))
    db.close()


def test_eight_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), 200)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    db = ledger.connect(path)
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM attempts").fetchone() == (1600, 1600)
    db.close()


def test_a_new_ledger_locked_by_another_first_connection_is_waited_for(tmp_path: Path) -> None:
    """A hook, the editor and the daemon may all open a ledger that does not exist yet.
    Switching a file to WAL does not wait for a lock (SQLite returns "database is locked"
    at once): the second connection must retry, not fail."""
    path = tmp_path / "l.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # not in WAL mode yet
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    timer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        db = ledger.connect(path)
    finally:
        timer.join()
        other.close()
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    ledger.record(db, _row(1))
    db.close()


def test_a_ledger_locked_past_the_busy_timeout_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codetier.cli import main
    from codetier.ledger import db as ledger_db

    home = tmp_path / "home"
    home.mkdir()
    other = sqlite3.connect(home / "ledger.db", isolation_level=None)  # not in WAL mode yet
    other.execute("BEGIN EXCLUSIVE")  # held for the whole test
    monkeypatch.setattr(ledger_db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setenv("CODETIER_HOME", str(home))
    try:
        assert main(["spend"]) == 2
    finally:
        other.close()
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert f"the ledger at {home / 'ledger.db'} stayed locked by another process for 0.2 s" in err


def _audit(db: sqlite3.Connection, tmp_path: Path) -> None:
    from codetier.audit import ingest
    from codetier.cli.common import load

    transcript = tmp_path / "projects" / "-w" / "s.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text('{"type":"user","timestamp":"2026-11-20T10:00:00Z","message":{"content":"hi"}}\n')
    ingest.ingest(db, [transcript.parent.parent], load()[1])


def _hold(db: sqlite3.Connection, tmp_path: Path) -> None:
    from codetier.ledger import holds

    holds.checked(db, dt.date.today(), lambda spent: (None, "fast", 1), 60)


@pytest.mark.parametrize("write", [lambda db, _: ledger.record(db, _row(1)), _hold, _audit],
                         ids=["record", "budget hold", "audit"])  # fmt: skip
def test_a_write_locked_out_past_the_busy_timeout_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[sqlite3.Connection, Path], None]
) -> None:
    """Not only while opening: every write waits out another process's lock, then names the ledger."""
    from codetier.errors import UsageError

    path = tmp_path / "l.db"
    db = ledger.connect(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held
    monkeypatch.setattr(ledger_db, "BUSY_TIMEOUT_MS", 200)
    db.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(
            UsageError, match=f"the ledger at {path} stayed locked by another process for 0.2 s"
        ):
            write(db, tmp_path)
    finally:
        other.close()
    assert not db.in_transaction
    db.close()


def test_wal_and_busy_timeout(tmp_path: Path) -> None:
    db = ledger.connect(tmp_path / "l.db")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA busy_timeout").fetchone() == (ledger_db.BUSY_TIMEOUT_MS,)
    db.close()


def test_migrations_are_recorded_in_order_and_run_once(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ledger.connect(path).close()
    db = ledger.connect(path)
    names = [n for (n,) in db.execute("SELECT name FROM migrations ORDER BY rowid")]
    assert names == [name for name, _ in ledger_db.MIGRATIONS]
    db.close()


def test_an_old_ledger_is_migrated_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    ledger_db.m001_attempts(db)
    db.execute("INSERT INTO migrations VALUES ('m001_attempts', 'then')")
    db.execute(
        "INSERT INTO attempts (ts, day, source, request_id, attempt, task, tier, provider, outcome)"
        " VALUES ('t', 'd', 'cli', 'old', 1, 'explain', 'fast', 'anthropic', 'ok')"
    )
    db.close()
    db = ledger.connect(path)
    assert db.execute("SELECT request_id FROM attempts").fetchall() == [("old",)]
    db.close()


def test_schema_matches_golden(tmp_path: Path) -> None:
    db = ledger.connect(tmp_path / "l.db")
    schema = "\n".join(
        sql for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    )
    db.close()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(schema + "\n")
    assert schema + "\n" == GOLDEN.read_text()


def test_unknown_outcome_is_refused(tmp_path: Path) -> None:
    db = ledger.connect(tmp_path / "l.db")
    with pytest.raises(ValueError, match="unknown outcome"):
        ledger.record(db, ledger.Row(**{**_row(0).__dict__, "outcome": "meh"}))
    db.close()


@pytest.mark.parametrize("where", ["a-file", "below-a-file"])
def test_a_ledger_home_that_cannot_be_used_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    from codetier.cli import main

    (tmp_path / "a-file").write_text("not a directory")
    home = tmp_path / "a-file" if where == "a-file" else tmp_path / "a-file" / "sub"
    monkeypatch.setenv("CODETIER_HOME", str(home))
    assert main(["spend"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().count("\n") == 0
    assert "CODETIER_HOME" in err and str(home) in err


def test_a_file_that_is_not_a_ledger_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codetier.cli import main

    home = tmp_path / "home"
    home.mkdir()
    (home / "ledger.db").write_bytes(b"not a database" * 100)
    monkeypatch.setenv("CODETIER_HOME", str(home))
    assert main(["spend"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert f"the ledger at {home / 'ledger.db'} cannot be used: file is not a database" in err
    assert (home / "ledger.db").read_bytes() == b"not a database" * 100  # left as it was


def test_a_stale_snapshot_is_not_called_a_lock(tmp_path: Path) -> None:
    """Only a lock held past the busy timeout gets the one-line error: a write from a read
    transaction that another process has since overtaken fails at once, as itself."""
    db, other = ledger.connect(tmp_path / "l.db"), ledger.connect(tmp_path / "l.db")
    db.execute("BEGIN")
    db.execute("SELECT COUNT(*) FROM attempts").fetchone()  # this snapshot
    ledger.record(other, _row(1))  # a newer one
    with pytest.raises(sqlite3.OperationalError) as raised:
        ledger.record(db, _row(2))
    assert raised.value.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"
    db.execute("ROLLBACK")
    db.close()
    other.close()
