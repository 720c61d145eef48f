"""Precomputed drafts, keyed by a hash of the staged change and the registry
settings. Bounded by entries and by bytes; the least recently used go first."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 256
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Draft:
    message: str
    row_id: int  # the precompute's `ok` ledger row: a cache hit's parent
    repo: str


def key(staged: str, settings: Any) -> str:
    """The cache key: the staged change's hash and everything configurable that
    shapes the draft (the merged config: tiers, models, the task, prompts)."""
    blob = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(f"{staged}\0{blob}".encode()).hexdigest()


class DraftCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, Draft] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, k: str) -> Draft | None:
        with self._lock:
            draft = self._items.get(k)
            if draft is not None:
                self._items.move_to_end(k)
            return draft

    def put(self, k: str, draft: Draft) -> None:
        size = len(draft.message.encode())
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(k, None)
            if old is not None:
                self._bytes -= len(old.message.encode())
            self._items[k] = draft
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.message.encode())

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "max_entries": self.max_entries}
