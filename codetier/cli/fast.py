"""Commands whose plain forms run without click: importing click is ~25 ms, an
eighth of a repeat `codetier audit`. Only arguments this parser fully
understands take this path; anything else (--help, a typo, an option it does
not know) goes to click, which owns help and error messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path


def command(args: list[str]) -> Callable[[], None] | None:
    """The command `args` asks for, ready to run, or None to let click parse them."""
    if args[:1] != ["audit"]:
        return None
    paths: list[Path] = []
    since: str | None = None
    as_json = do_import = False
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--json":
            as_json = True
        elif arg == "--import":
            do_import = True
        elif arg == "--since" or arg.startswith("--since="):
            value = arg.partition("=")[2] if "=" in arg else next(rest, None)
            if not value or value.startswith("-"):
                return None  # click says what is missing
            since = value
        elif arg == "--":
            paths += map(Path, rest)
        elif arg.startswith("-"):
            return None
        else:
            paths.append(Path(arg))
    from codetier.cli.audit_run import run

    return partial(run, tuple(paths), since, as_json, do_import)
