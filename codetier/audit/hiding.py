"""Importing a module while hiding one of its optional dependencies.

msgspec reads type hints with typing_extensions when that imports, and with
typing otherwise, which has all the audit's structs need from Python 3.11 on.
typing_extensions loads `inspect` with it: ~10 ms of every audit's start-up,
a tenth of a repeat run. So the audit imports msgspec with it hidden, unless
something has loaded it already (the daemon has: the anthropic SDK uses it).
"""

from __future__ import annotations

import importlib
import sys


def import_hiding(name: str, hidden: str) -> None:
    """Import `name` while an import of `hidden` fails, unless either is loaded already.
    Should `name` need `hidden` after all, it is imported again the usual way."""
    if name in sys.modules or hidden in sys.modules:
        return
    sys.modules[hidden] = None  # type: ignore[assignment]  # makes `import hidden` raise ImportError
    try:
        importlib.import_module(name)
    except ImportError:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
    finally:
        del sys.modules[hidden]
    if name not in sys.modules:
        importlib.import_module(name)
