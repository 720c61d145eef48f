"""Importing a module while hiding one of its optional dependencies.

msgspec reads type hints with typing_extensions when that imports, and with
typing otherwise, which has all the audit's structs need from Python 3.11 on.
typing_extensions loads `inspect` with it: ~10 ms of every audit's start-up,
a tenth of a repeat run. So the audit's CLI imports msgspec with it hidden.
Hiding is global to the process, so it is skipped while other threads run
(the daemon's), and when either module is loaded already.
"""

from __future__ import annotations

import importlib
import sys


def import_hiding(name: str, hidden: str) -> None:
    """Import `name` while an import of `hidden` fails. Should `name` need `hidden` after
    all, every module loaded meanwhile is dropped and `name` is imported the usual way."""
    threading = sys.modules.get("threading")
    if name in sys.modules or hidden in sys.modules or (threading and threading.active_count() > 1):
        importlib.import_module(name)
        return
    before = set(sys.modules)
    sys.modules[hidden] = None  # type: ignore[assignment]  # makes `import hidden` raise ImportError
    try:
        importlib.import_module(name)
    except ImportError:
        for loaded in set(sys.modules) - before:  # some may hold None for `hidden`: load them again
            del sys.modules[loaded]
    finally:
        if sys.modules.get(hidden, 0) is None:
            del sys.modules[hidden]
    if name not in sys.modules:
        importlib.import_module(name)
