"""pre-commit stage (opt-in): one CHANGELOG.md entry for the staged change.

Writes under "Unreleased" when the change is user-visible and the changelog
is not already staged, then fails like a formatter so the user can review
the entry and `git add` it; the next attempt finds it staged and passes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codetier.config import Config

UNCHANGED = "the changelog was left as it was"


def add_entry(root: Path, cfg: Config) -> int:
    from codetier_hooks._guard import hook_registry, say

    from codetier.chores import changelog
    from codetier.chores.commit_message import NothingStaged
    from codetier.tools import git

    name = changelog.changelog_path(cfg)
    if name in git.staged_names(root, diff_filter="ACMRD"):
        return 0  # the user wrote (or reviewed) the entry already
    try:
        written = changelog.write_entry(root, cfg, hook_registry(cfg), source="hook")
    except NothingStaged:
        return 0
    if written is None:
        return 0
    if written.note:
        say(written.note)
    say(f"added to {name} under Unreleased: {written.section}: {written.entry}")
    say(f"review it and `git add {name}`")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    from codetier_hooks import _guard

    if _guard.skipped():
        return 0
    return _guard.guarded(UNCHANGED, add_entry)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
