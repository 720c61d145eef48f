"""Per-repo facts the daemon looks up on every request, cached while valid:
a path's git top level, and the repo's merged config (re-read whenever a
file it comes from changes, so config is still read at call time)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from codetier import config, paths
from codetier.daemon.protocol import INVALID_PARAMS, RpcFailure

_lock = threading.Lock()
_toplevels: dict[str, str] = {}
_configs: dict[str, tuple[tuple[tuple[str, int, int], ...], config.Config]] = {}


def toplevel(path: str) -> str:
    """The real path of the work tree's top level for any path inside it."""
    with _lock:
        known = _toplevels.get(path)
    if known is not None and os.path.exists(os.path.join(known, ".git")):
        return known
    out = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RpcFailure(INVALID_PARAMS, f"{path} is not inside a git repository")
    top = os.path.realpath(out.stdout.strip())
    with _lock:
        _toplevels[path] = top
    return top


def _signature(repo: Path) -> tuple[tuple[str, int, int], ...]:
    sig = []
    for f in (paths.user_config(), repo / "pyproject.toml", repo / ".codetier.toml"):
        try:
            st = f.stat()
        except OSError:
            continue
        sig.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(sig)


def load_config(repo: str) -> config.Config:
    """`config.load(repo)`, reused while none of its files changed (the
    daemon's environment and the built-in defaults are fixed for its life)."""
    root = Path(repo)
    sig = _signature(root)
    with _lock:
        cached = _configs.get(repo)
    if cached is not None and cached[0] == sig:
        return cached[1]
    cfg = config.load(root)
    with _lock:
        _configs[repo] = (sig, cfg)
    return cfg
