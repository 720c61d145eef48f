"""The `codetier` command. Subcommands load lazily so `route` stays fast, and a
plain `codetier audit` runs without importing click at all (see fast.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codetier.cli.errors import error_handler


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with error_handler() as code:
        from codetier.cli import fast

        run = fast.command(args)
        if run is not None:
            run()
        else:
            from codetier.cli.group import cli

            result = cli.main(args=args, prog_name="codetier", standalone_mode=False)
            code.value = result if isinstance(result, int) else 0
    return code.value


def console() -> int:
    """The `codetier` script and `python -m codetier`: `main`, then the process ends. What
    it loaded is first frozen out of the cycle collector, whose last pass at exit would
    search it all (~7 ms of a ~130 ms repeat audit); it is freed with the process anyway.
    In-process callers (the tests) use `main`, which leaves the collector alone."""
    code = main()
    import gc

    gc.freeze()
    return code
