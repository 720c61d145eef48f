"""prepare-commit-msg: write the commit message for the staged change.

Runs on every commit, so it imports nothing of codetier until it knows git
has no message. Usage (git and pre-commit both call it this way):

    python -m codetier_hooks.prepare_commit_msg MSG_FILE [SOURCE [SHA]]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fast path imports only os, sys, socket and json
    from pathlib import Path

    from codetier.config import Config

UNCHANGED = "left the message as it was"
# How long the hook waits for a running daemon to draft a change it has not
# drafted yet: the fast link and its fallback, at the hooks' default timeout.
DAEMON_WAIT_S = 20.0


def draft_from_daemon(root: str) -> str | None:
    """The daemon's draft for this staged diff, or None.

    A running daemon answers from its cache at once, or drafts now with its
    warm client (waiting for a draft already in flight). None means "work it
    out in-process", which is always correct, only slower.
    """
    from codetier.daemon import client  # socket + json only

    return client.draft(root, wait=DAEMON_WAIT_S)


def fast_path(msg_file: str) -> bool:
    """Write the daemon's draft before importing anything heavy; False when
    the in-process path must decide (a message already there, no daemon, a
    miss). Git runs hooks at the top of the work tree, so cwd is the repo."""
    from codetier import msgfile

    if msgfile.has_message(msg_file):
        return False
    if os.path.basename(os.environ.get("GIT_INDEX_FILE", "index")) != "index":
        return False  # `commit -a` / `commit FILE`: a temporary index the daemon's draft cannot match
    message = draft_from_daemon(os.getcwd())
    if message is None:
        return False
    msgfile.write_message(msg_file, message)
    return True


def _comment_char(root: Path) -> str:
    from codetier.tools import git

    char = git.run(root, "config", "core.commentChar", check=False).strip()
    return char if char and char != "auto" else "#"


def fill(root: Path, cfg: Config, msg_file: Path) -> int:
    from codetier_hooks._guard import Degraded, hook_registry, say

    from codetier import msgfile
    from codetier.chores import commit_message as cm

    if msgfile.has_message(msg_file, _comment_char(root)):
        return 0  # something (a -t template, another hook) already wrote one
    try:
        composed = cm.compose(root, cfg, hook_registry(cfg), source="hook")
    except cm.NothingStaged:
        say(f"nothing staged; {UNCHANGED}")
        return 0
    msgfile.write_message(msg_file, composed.message)
    for warning in composed.result.warnings:  # e.g. a budget step-down
        say(f"warning: {warning}")
    if composed.note:
        raise Degraded(composed.note)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from codetier_hooks import _guard

    if _guard.skipped():
        return 0
    if not args:
        _guard.say("prepare-commit-msg expects git's message file as its first argument")
        return 0
    source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    if source:  # message (-m/-F), template, merge, squash or commit (--amend/-c): git has one
        return 0
    try:
        if fast_path(args[0]):
            return 0
    except Exception:  # the daemon path is an optimisation: never let it fail a commit
        pass
    from pathlib import Path

    msg_file = Path(args[0])
    return _guard.guarded(UNCHANGED, lambda root, cfg: fill(root, cfg, msg_file))


if __name__ == "__main__":
    raise SystemExit(main())
