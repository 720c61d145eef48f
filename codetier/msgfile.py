"""git's commit message file: is there a message, and writing one above git's
comments. Imports only `os` and `re`, so the hook's fast path can use it."""

from __future__ import annotations

import os
import re

FilePath = str | os.PathLike[str]

SCISSORS = re.compile(r" -+ >8 -+$")


def write_message(path: FilePath, message: str) -> None:
    """Put the message above git's comment lines (and its scissors), keeping them."""
    original = _read(path).decode("utf-8", "surrogateescape") if os.path.exists(path) else ""
    rest = original if original.startswith("\n") or not original else "\n" + original
    data = (message.rstrip("\n") + "\n" + rest).encode("utf-8", "surrogateescape")
    tmp = f"{os.fspath(path)}.codetier-{os.getpid()}"
    try:  # whole or not at all: git must never read half a message
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def has_message(path: FilePath, comment: str = "#") -> bool:
    """Whether the file already holds text that is not a comment."""
    if not os.path.exists(path):
        return False
    text = _read(path).decode("utf-8", "replace")
    for line in text.splitlines():
        if line.startswith(comment) and SCISSORS.search(line):
            return False  # `commit -v`: below the scissors is git's diff
        if line.strip() and not line.startswith(comment):
            return True
    return False


def _read(path: FilePath) -> bytes:
    with open(path, "rb") as f:
        return f.read()
