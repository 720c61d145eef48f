"""Sessions: one repo's activity with no gap longer than N minutes (30 by default).

Sessions are derived from the rows' repo and time, so every entry point gets
them for free. A session's id is its first row's UTC minute and a short hash
of the repo: `20261122T0105-3fa2c1`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from dataclasses import dataclass

ID_RE = re.compile(r"^(\d{8}T\d{4})-([0-9a-f]{6})$")


@dataclass(frozen=True)
class Session:
    id: str
    repo: str
    first: str  # ISO timestamps of the first and last rows, as stored
    last: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "repo": self.repo, "first": self.first, "last": self.last}


def _parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts).astimezone(dt.UTC)


def repo_hash(repo: str) -> str:
    return hashlib.sha1(repo.encode()).hexdigest()[:6]


def make_id(repo: str, first: str) -> str:
    return f"{_parse(first):%Y%m%dT%H%M}-{repo_hash(repo)}"


def _walk(stamps: list[str], gap: dt.timedelta) -> int:
    """Index in `stamps` (in time order) where the run containing stamps[0] ends."""
    prev = _parse(stamps[0])
    for i, ts in enumerate(stamps[1:], start=1):
        cur = _parse(ts)
        if abs(cur - prev) > gap:
            return i - 1
        prev = cur
    return len(stamps) - 1


def _run(cursor: sqlite3.Cursor, gap: dt.timedelta) -> list[str]:
    """The stamps `cursor` gives (in time order, either way), read in pages, up to the
    first gap longer than `gap`."""
    stamps: list[str] = []
    while page := [ts for (ts,) in cursor.fetchmany(500)]:
        stamps += page
        end = _walk(stamps, gap)
        if end < len(stamps) - 1:
            return stamps[: end + 1]
    return stamps


def current(db: sqlite3.Connection, repo: str, gap_minutes: int) -> Session | None:
    """The repo's latest session (the one its newest row belongs to)."""
    gap = dt.timedelta(minutes=gap_minutes)
    # Newest first, until a gap ends the session.
    stamps = _run(db.execute("SELECT ts FROM attempts WHERE repo = ? ORDER BY ts DESC", (repo,)), gap)
    if not stamps:
        return None
    return Session(make_id(repo, stamps[-1]), repo, stamps[-1], stamps[0])


def by_id(db: sqlite3.Connection, session_id: str, gap_minutes: int) -> Session | None:
    """The session an id names, or None when the id is not a derived one or matches nothing."""
    m = ID_RE.match(session_id)
    if m is None:
        return None
    start = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
    repos = [r for (r,) in db.execute("SELECT DISTINCT repo FROM attempts WHERE repo IS NOT NULL")]
    gap = dt.timedelta(minutes=gap_minutes)
    for repo in (r for r in repos if repo_hash(r) == m.group(2)):
        lo = start.isoformat(timespec="milliseconds")
        hi = (start + dt.timedelta(minutes=1)).isoformat(timespec="milliseconds")
        stamps = _run(
            db.execute("SELECT ts FROM attempts WHERE repo = ? AND ts >= ? ORDER BY ts", (repo, lo)), gap
        )
        if stamps and stamps[0] < hi:
            return Session(session_id, repo, stamps[0], stamps[-1])
    return None
