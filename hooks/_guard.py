"""What every hook shares: CODETIER_SKIP, `hooks.strict`, and one line on
stderr instead of a traceback. A hook never blocks a commit on codetier's own
failure unless `[hooks] strict = true`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fast path of prepare-commit-msg imports this module: keep it light
    from pathlib import Path

    from codetier.config import Config
    from codetier.registry import Registry

SKIP_VALUES = ("1", "true", "yes", "on")


class Degraded(Exception):
    """The hook did its job with a fallback (e.g. the offline draft): say why, exit 0 unless strict."""


def hook_registry(cfg: Config) -> Registry:
    """The registry with the hooks' own model timeout and retries: someone is waiting at `git commit`.

    The chain is the retry (fast, then balanced, then the offline draft), so a
    hung API costs at most `hooks.timeout_s` per model link.
    """

    from codetier import registry

    reg = registry.build(cfg)
    r = registry.Reader(cfg)
    timeout = r.number("hooks.timeout_s", default=10.0) or 10.0
    retries = int(r.number("hooks.max_retries", default=0, integer=True) or 0)
    return reg._replace(timeout_s=float(timeout), max_retries=retries)


def skipped() -> bool:
    return os.environ.get("CODETIER_SKIP", "").strip().lower() in SKIP_VALUES


STRICT_NOTE = " (hooks.strict = true: failing the commit)"


def say(text: str, suffix: str = "") -> None:
    line = " ".join(text.split())  # one line, whatever the error looked like
    sys.stderr.write(f"codetier: {line[:300]}{suffix}\n")


def _crash_log() -> str:
    import datetime as dt
    import traceback

    from codetier import paths

    log = paths.home() / "crash.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat()} hook argv: {sys.argv!r}\n{traceback.format_exc()}")
    except OSError:
        return ""
    return f" (details in {log})"


def guarded(unchanged: str, work: Callable[[Path, Config], int]) -> int:
    """Run `work(root, cfg)`; any failure becomes one line plus `unchanged`, exit 0 (1 when strict)."""
    from codetier.errors import AllAttemptsFailed, CodetierError

    strict = False
    try:
        from codetier import config
        from codetier.registry import Reader
        from codetier.tools import git

        root = git.toplevel()
        cfg = config.load(root)
        strict = Reader(cfg).boolean("hooks.strict", False)
        return work(root, cfg)
    except Degraded as e:
        say(str(e), STRICT_NOTE if strict else "")
        return 1 if strict else 0
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except AllAttemptsFailed as e:
        line = f"every attempt failed ({'; '.join(e.lines)}); {unchanged}"
    except CodetierError as e:
        line = f"{e}; {unchanged}"
    except Exception as e:
        line = f"internal error {type(e).__name__}: {e}; {unchanged}{_crash_log()}"
    say(line, STRICT_NOTE if strict else "")
    return 1 if strict else 0
