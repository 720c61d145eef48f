"""One place maps errors to exit codes: user errors 1 or 2 with one line,
^C 130, click usage 2, and a bug 3 with a crash log the user can paste."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from codetier import __version__, output
from codetier.errors import CodetierError


class ExitCode:
    __slots__ = ("value",)

    def __init__(self, value: int = 0) -> None:
        self.value = value


@contextlib.contextmanager
def error_handler() -> Iterator[ExitCode]:
    code = ExitCode()
    try:
        yield code
    except CodetierError as e:
        output.err(f"codetier: {e}")
        code.value = e.exit_code
    except KeyboardInterrupt:
        output.err("codetier: interrupted")
        code.value = 130
    except Exception as e:
        clicked = _click_exit(e)
        if clicked is not None:
            code.value = clicked
            return
        code.value = 3
        import datetime as dt
        import traceback

        from codetier import paths

        log = paths.home() / "crash.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as f:
                stamp = dt.datetime.now().isoformat()
                f.write(f"--- {stamp} codetier {__version__} python {sys.version.split()[0]}\n")
                f.write(f"argv: {sys.argv!r}\n")
                f.write(traceback.format_exc())
            output.err(f"codetier: internal error, please report it with {log}")
        except OSError:
            output.err("codetier: internal error:\n" + traceback.format_exc())


def _click_exit(e: Exception) -> int | None:
    """The exit code for one of click's exceptions, else None. Only an imported click
    can raise them, and a plain `codetier audit` never imports it (cli/fast.py)."""
    click = sys.modules.get("click")
    if click is None:
        return None
    if isinstance(e, click.exceptions.Exit):
        return int(e.exit_code)
    if isinstance(e, click.ClickException):
        e.show()
        return int(e.exit_code)
    if isinstance(e, click.exceptions.Abort):
        output.err("codetier: aborted")
        return 130
    return None
