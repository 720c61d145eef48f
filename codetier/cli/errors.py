"""One place maps errors to exit codes: user errors 1 or 2 with one line,
^C 130, click usage 2, and a bug 3 with a crash log the user can paste."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import click

from codetier import __version__, output, paths
from codetier.errors import CodetierError


@dataclass
class ExitCode:
    value: int = 0


@contextlib.contextmanager
def error_handler() -> Iterator[ExitCode]:
    code = ExitCode()
    try:
        yield code
    except CodetierError as e:
        output.err(f"codetier: {e}")
        code.value = e.exit_code
    except click.exceptions.Exit as e:
        code.value = e.exit_code
    except click.ClickException as e:
        e.show()
        code.value = e.exit_code
    except click.exceptions.Abort:
        output.err("codetier: aborted")
        code.value = 130
    except KeyboardInterrupt:
        output.err("codetier: interrupted")
        code.value = 130
    except Exception:
        code.value = 3
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
