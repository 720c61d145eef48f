"""git's commit message file: is there a message, and writing one above git's
comments. Imports only `re`, so the hook's fast path can use it."""

from __future__ import annotations

import re
from pathlib import Path

SCISSORS = re.compile(r" -+ >8 -+$")


def write_message(path: Path, message: str) -> None:
    """Put the message above git's comment lines (and its scissors), keeping them."""
    original = path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""
    rest = original if original.startswith("\n") or not original else "\n" + original
    path.write_bytes((message.rstrip("\n") + "\n" + rest).encode("utf-8", "surrogateescape"))


def has_message(path: Path, comment: str = "#") -> bool:
    """Whether the file already holds text that is not a comment."""
    if not path.exists():
        return False
    text = path.read_bytes().decode("utf-8", "replace")
    for line in text.splitlines():
        if line.startswith(comment) and SCISSORS.search(line):
            return False  # `commit -v`: below the scissors is git's diff
        if line.strip() and not line.startswith(comment):
            return True
    return False
