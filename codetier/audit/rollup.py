"""Sums of the audit rows a run adds, written to audit_rollup / audit_prompt_rollup.

Each worker sums the rows it reads; the main process merges those sums and
takes back the rows it drops as duplicates (few), so it never walks every row.
"""

from __future__ import annotations

import sqlite3
from typing import Any

UsageKey = tuple[str, str, str, str]  # day, model, task, tier
PromptKey = tuple[str, str, str]  # day, task, tier


class Rollup:
    def __init__(self) -> None:
        self.usage: dict[UsageKey, list[int]] = {}
        self.prompts: dict[PromptKey, int] = {}

    def add_usage(self, row: tuple[Any, ...], sign: int = 1) -> None:
        """Count an audit_usage row (see ingest._USAGE_SQL for its columns); sign -1 takes it back."""
        key = (row[2], row[5], row[13] or "", row[14] or "")
        sums = self.usage.get(key)
        if sums is None:
            sums = self.usage[key] = [0] * 7
        sums[0] += sign
        sums[1] += sign * row[7]
        sums[2] += sign * row[8]
        sums[3] += sign * (row[9] + row[10])
        sums[4] += sign * row[11]
        sums[5] += sign * row[12]
        sums[6] += sign * row[15]

    def add_prompt(self, row: tuple[Any, ...], sign: int = 1) -> None:
        key = (row[2], row[5], row[6])
        self.prompts[key] = self.prompts.get(key, 0) + sign

    def merge(self, other: Rollup) -> None:
        for key, values in other.usage.items():
            sums = self.usage.get(key)
            if sums is None:
                self.usage[key] = list(values)
            else:
                for i, v in enumerate(values):
                    sums[i] += v
        for pkey, n in other.prompts.items():
            self.prompts[pkey] = self.prompts.get(pkey, 0) + n

    def write(self, db: sqlite3.Connection) -> None:
        db.executemany(
            """INSERT INTO audit_rollup VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET
               entries = entries + excluded.entries, input = input + excluded.input,
               output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
               cost = cost + excluded.cost, routed = routed + excluded.routed""",
            [(*k, *v) for k, v in self.usage.items() if v[0]],
        )
        db.executemany(
            "INSERT INTO audit_prompt_rollup VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(*k, n) for k, n in self.prompts.items() if n],
        )
