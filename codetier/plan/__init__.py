"""Plan → execute for deep tasks (architecture, cross-module refactors).

The deep model writes a plan (schema.py), subtasks run by dependency level in
parallel on their own tiers with structured handoffs (execute.py), and the
combined change is checked (verify.py) before anything touches the tree
(transaction.py, with an undo point). `run` in pipeline.py ties them together.
"""

from __future__ import annotations

PLANNED_TASKS = ("architecture", "cross_file_refactor")

__all__ = ["PLANNED_TASKS"]
