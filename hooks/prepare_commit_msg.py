"""prepare-commit-msg: write the commit message for the staged change.

Runs on every commit, so it imports nothing of codetier until it knows git
has no message. Usage (git and pre-commit both call it this way):

    python -m codetier_hooks.prepare_commit_msg MSG_FILE [SOURCE [SHA]]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codetier.config import Config

UNCHANGED = "left the message as it was"


def draft_from_daemon(root: Path, msg_file: Path) -> str | None:
    """The daemon's precomputed draft for this staged diff, or None.

    The fast path goes here (issue 5): ask the per-user socket for the draft
    cached under the staged diff's hash, with a short timeout. None means
    "work it out in-process", which is always correct, only slower.
    """
    from codetier.daemon import client  # socket + json only

    return client.draft(str(root))


def _comment_char(root: Path) -> str:
    from codetier.tools import git

    char = git.run(root, "config", "core.commentChar", check=False).strip()
    return char if char and char != "auto" else "#"


def fill(root: Path, cfg: Config, msg_file: Path) -> int:
    from codetier_hooks._guard import Degraded, hook_registry, say

    from codetier.chores import commit_message as cm

    if cm.has_message(msg_file, _comment_char(root)):
        return 0  # something (a -t template, another hook) already wrote one
    message, note = draft_from_daemon(root, msg_file), ""
    if message is None:
        try:
            composed = cm.compose(root, cfg, hook_registry(cfg), source="hook")
        except cm.NothingStaged:
            say(f"nothing staged; {UNCHANGED}")
            return 0
        message, note = composed.message, composed.note
    cm.write_message(msg_file, message)
    if note:
        raise Degraded(note)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from codetier_hooks import _guard

    if _guard.skipped():
        return 0
    if not args:
        _guard.say("prepare-commit-msg expects git's message file as its first argument")
        return 0
    msg_file = Path(args[0])
    source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    if source:  # message (-m/-F), template, merge, squash or commit (--amend/-c): git has one
        return 0
    return _guard.guarded(UNCHANGED, lambda root, cfg: fill(root, cfg, msg_file))


if __name__ == "__main__":
    raise SystemExit(main())
