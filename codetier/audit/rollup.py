"""Sums of the audit rows a run adds, written to audit_rollup / audit_prompt_rollup.

Each worker sums the rows it reads; the main process merges those sums and
takes back the rows it drops as duplicates (few), so it never walks every row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from codetier.audit.lines import storable

UsageKey = tuple[str, str, str, str]  # day, model, task, tier
PromptKey = tuple[str, str, str]  # day, task, tier


class Rollup:
    def __init__(self) -> None:
        self.usage: dict[UsageKey, list[int]] = {}
        self.prompts: dict[PromptKey, int] = {}

    def add(self, key: UsageKey, one: Sequence[int], sign: int = 1) -> None:
        """Count one usage entry: `one` is (1, input, output, cache writes, cache reads, cost,
        routed cost); sign -1 takes it back."""
        sums = self.usage.get(key)
        if sums is None:
            sums = self.usage[key] = [0] * 7
        for i, v in enumerate(one):
            sums[i] += sign * v

    def merge(self, other: Rollup) -> None:
        for key, values in other.usage.items():
            sums = self.usage.get(key)
            self.usage[key] = (
                list(values) if sums is None else [a + b for a, b in zip(sums, values, strict=True)]
            )
        for pkey, n in other.prompts.items():
            self.prompts[pkey] = self.prompts.get(pkey, 0) + n

    def write(self, db: sqlite3.Connection) -> None:
        db.executemany(
            """INSERT INTO audit_rollup VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET
               entries = entries + excluded.entries, input = input + excluded.input,
               output = output + excluded.output, cw = cw + excluded.cw, cr = cr + excluded.cr,
               cost = cost + excluded.cost, routed = routed + excluded.routed""",
            [
                (day, storable(model), task, tier, *v)
                for (day, model, task, tier), v in self.usage.items()
                if v[0]
            ],
        )
        db.executemany(
            "INSERT INTO audit_prompt_rollup VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(*k, n) for k, n in self.prompts.items() if n],
        )
