"""Chores, one module per chore, registered per task type."""

from __future__ import annotations

from codetier.chores import (
    changelog,
    code_review,
    commit_message,
    docstring,
    format_fix,
    generic,
    rename,
    test_writing,
)
from codetier.chores.base import Chore, Request

CHORES: dict[str, Chore] = {
    "format_fix": format_fix.CHORE,
    "commit_message": commit_message.CHORE,
    "changelog_entry": changelog.ENTRY_CHORE,
    "rename": rename.CHORE,
    "docstring": docstring.CHORE,
    "test_writing": test_writing.CHORE,
    "code_review": code_review.CHORE,
}


def get(task: str) -> Chore:
    """The chore for a task type; free-text tasks share the generic one."""
    return CHORES.get(task) or generic.chore(task)


__all__ = ["CHORES", "Chore", "Request", "get"]
