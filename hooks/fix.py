"""pre-commit stage: ruff format + `ruff check --fix` on the staged Python files.

Like every formatter hook it rewrites the files and fails, so the user looks
and re-stages. What ruff cannot fix is reported, not blocking (ruff's own
hook is the lint gate); codetier failing never blocks a commit.

    python -m codetier_hooks.fix [FILES...]   (no FILES: the staged Python files)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codetier.config import Config

UNCHANGED = "files left as they were"


def fix(root: Path, cfg: Config, files: Sequence[str]) -> int:
    from codetier_hooks._guard import hook_registry, say

    from codetier.chores.lint_fix import run_fix
    from codetier.tools import git

    paths = list(files) or [str(root / p) for p in git.staged_names(root) if p.endswith((".py", ".pyi"))]
    if not paths:
        return 0
    report = run_fix(root, cfg, hook_registry(cfg), paths, source="hook")
    for note in report.notes:
        say(note)
    for line in report.lines():
        sys.stderr.write(f"codetier: {line}\n")
    if report.changed:
        say("files were changed: review them and `git add` them again")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from codetier_hooks import _guard

    files = list(sys.argv[1:] if argv is None else argv)
    if _guard.skipped():
        return 0
    return _guard.guarded(UNCHANGED, lambda root, cfg: fix(root, cfg, files))


if __name__ == "__main__":
    raise SystemExit(main())
