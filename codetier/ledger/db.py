"""Opening the ledger: WAL, a busy timeout, and ordered, recorded migrations."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from codetier import paths
from codetier.errors import UsageError

BUSY_TIMEOUT_MS = 30_000

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_attempts(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            repo TEXT,
            source TEXT NOT NULL,
            request_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            task TEXT NOT NULL,
            tier TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cost_micros INTEGER NOT NULL DEFAULT 0,
            counterfactual_micros INTEGER NOT NULL DEFAULT 0,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            reason TEXT,
            redacted INTEGER NOT NULL DEFAULT 0,
            provider_request_id TEXT,
            prompt TEXT
        )
        """
    )
    db.execute("CREATE INDEX attempts_day ON attempts (day, tier)")
    db.execute("CREATE INDEX attempts_request ON attempts (request_id)")


def _apply_migrations(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    done = {name for (name,) in db.execute("SELECT name FROM migrations")}
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")  # past the busy timeout: see connect
        try:
            # Another process may have applied it while we waited for the lock.
            if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone() is None:
                fn(db)
                db.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (name,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _wal(db: sqlite3.Connection) -> None:
    """WAL mode (kept by the file once set). Switching a new ledger to it does not wait
    for the busy timeout: while another first connection holds a lock, SQLite says
    "database is locked" at once. So retry, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if not _is_locked(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _is_locked(e: sqlite3.DatabaseError) -> bool:
    """Another process held the lock past the busy timeout (not, say, a stale snapshot)."""
    return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


def _locked(path: object) -> UsageError:
    return UsageError(
        f"the ledger at {path} stayed locked by another process for {BUSY_TIMEOUT_MS / 1000:g} s: "
        "try again once it is done"
    )


@contextlib.contextmanager
def waiting(db: sqlite3.Connection) -> Iterator[None]:
    """Around a write that waits for another process's lock: past the busy timeout, one
    clear line (a UsageError naming the ledger), not a traceback."""
    try:
        yield
    except sqlite3.OperationalError as e:
        if not _is_locked(e):
            raise
        (path,) = [row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"]
        raise _locked(path) from None


def begin(db: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE: the write lock, now, waited for up to the busy timeout (see `waiting`)."""
    with waiting(db):
        db.execute("BEGIN IMMEDIATE")


def connect(path: Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the ledger, migrated to the newest schema."""
    path = path or paths.ledger_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.OperationalError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise UsageError(
            f"cannot open the ledger at {path}: {reason} (set CODETIER_HOME to a writable directory)"
        ) from None
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
        _apply_migrations(db)
    except sqlite3.DatabaseError as e:
        db.close()
        if _is_locked(e):
            raise _locked(path) from None
        # Only a damaged or foreign file is the file's fault; a full disk, say, is not.
        damaged = getattr(e, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        hint = " (move it aside to start a new one)" if damaged else ""
        raise UsageError(f"the ledger at {path} cannot be used: {e}{hint}") from None
    return db


@migration
def m002_links_and_phases(db: sqlite3.Connection) -> None:
    """parent_id links a cache hit to its precompute row; phase splits plan
    and execution; cache_key names a precomputed draft."""
    db.execute("ALTER TABLE attempts ADD COLUMN parent_id INTEGER")
    db.execute("ALTER TABLE attempts ADD COLUMN phase TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN cache_key TEXT")


@migration
def m003_spend_indexes_and_audit(db: sqlite3.Connection) -> None:
    """Indexes for `codetier spend` (sessions by repo and time, escalations,
    precompute drafts) and the tables `codetier audit` keeps: file offsets,
    one row per deduplicated Claude Code usage entry, one per user prompt."""
    db.execute("CREATE INDEX attempts_repo_ts ON attempts (repo, ts)")
    db.execute("CREATE INDEX attempts_cache_key ON attempts (cache_key) WHERE cache_key IS NOT NULL")
    db.execute("CREATE INDEX attempts_parent ON attempts (parent_id) WHERE parent_id IS NOT NULL")
    db.execute(
        """
        CREATE TABLE audit_files (
            path TEXT PRIMARY KEY,
            inode INTEGER NOT NULL,
            size INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            head TEXT NOT NULL,
            task TEXT,
            tier TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE audit_usage (
            key TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            project TEXT,
            model TEXT NOT NULL,
            sidechain INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_write_5m_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cost_micros INTEGER NOT NULL,
            task TEXT,
            tier TEXT,
            routed_cost_micros INTEGER NOT NULL,
            imported INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX audit_usage_day ON audit_usage (day, model)")
    db.execute(
        """
        CREATE TABLE audit_prompts (
            key TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            session TEXT,
            project TEXT,
            task TEXT NOT NULL,
            tier TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX audit_prompts_session ON audit_prompts (session, ts)")


@migration
def m004_rollups(db: sqlite3.Connection) -> None:
    """Rollups kept up to date on write, so `codetier spend` over a million rows and a
    repeat `codetier audit` read thousands (the SQL lives in ledger/rollup_sql.py,
    frozen with this migration)."""
    from codetier.ledger import rollup_sql

    rollup_sql.m004(db)


@migration
def m005_audit_keys(db: sqlite3.Connection) -> None:
    """`codetier audit` keeps only the keys it deduplicates on (the rollups hold the sums):
    one table of usage keys (with whether `--import` copied it into the ledger) and one of
    prompt keys, clustered on the key, in place of a full row per entry and per prompt."""
    db.execute(
        "CREATE TABLE audit_keys (key TEXT PRIMARY KEY, imported INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
    db.execute("CREATE TABLE audit_prompt_keys (key TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("INSERT INTO audit_keys SELECT key, imported FROM audit_usage ORDER BY key")
    db.execute("INSERT INTO audit_prompt_keys SELECT key FROM audit_prompts ORDER BY key")
    db.execute("DROP TABLE audit_usage")
    db.execute("DROP TABLE audit_prompts")


@migration
def m006_audit_key_runs(db: sqlite3.Connection) -> None:
    """The audit's keys as sorted runs of 64-bit hashes, appended a run at a time (see
    ledger/keyruns.py), in place of two text-keyed B-trees that a repeat run rewrote
    most pages of. Import flags become a run of their own."""
    from codetier.ledger import keyruns

    db.execute("CREATE TABLE audit_key_runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, keys BLOB NOT NULL)")
    for kind, sql in (
        (keyruns.USAGE, "SELECT key FROM audit_keys"),
        (keyruns.IMPORTED, "SELECT key FROM audit_keys WHERE imported"),
        (keyruns.PROMPT, "SELECT key FROM audit_prompt_keys"),
    ):
        keyruns.KeyRuns(db, kind).add({keyruns.key_hash(k) for (k,) in db.execute(sql)})
    db.execute("DROP TABLE audit_keys")
    db.execute("DROP TABLE audit_prompt_keys")


@migration
def m007_budget_holds(db: sqlite3.Connection) -> None:
    """What calls in flight may still spend (see ledger/holds.py), so that processes
    checking the budgets at once (hooks, editor, daemon) see each other's calls."""
    db.execute(
        # AUTOINCREMENT: an id is never reused, so a late release cannot free another call's hold.
        "CREATE TABLE budget_holds (id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL,"
        " tier TEXT NOT NULL, micros INTEGER NOT NULL, expires REAL NOT NULL)"
    )
