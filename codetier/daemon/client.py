"""Talking to the daemon from any process, cheaply.

The prepare-commit-msg hook imports this on every commit, so it imports only
os and json at module level (socket once there is a socket to connect to,
subprocess and hashlib when a staged diff is hashed); nothing from the rest
of codetier. Every failure to reach the daemon is `Unavailable`: callers then
run in-process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping

TYPE_CHECKING = False  # typing costs ~3 ms to import: only the type checker needs it here
if TYPE_CHECKING:
    import socket
    from typing import Any

SOCKET_NAME = "daemon.sock"
LOCK_NAME = "daemon.pid"
# sockaddr_un.sun_path is 108 bytes on Linux (104 on the BSDs): stay under both.
MAX_SOCKET_PATH = 100
HOOK_TIMEOUT = 0.5
# Where config and the ledger are, and the time zone; with every CODETIER_* variable.
AUDIT_ENV = ("HOME", "TZ", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
AUDIT_TIMEOUT = 10.0  # the daemon reads at most 32 MB for an audit (see methods.audit): ~1 s
HALF_YEAR_S = 15_778_800


class Unavailable(Exception):
    """The daemon is not running, not ours, or did not answer in time."""


class RpcError(Exception):
    """The daemon answered with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        self.code, self.data = code, data
        super().__init__(message)


def runtime_dir() -> str:
    """The daemon's private directory: `$CODETIER_HOME/run` when set, else the
    user runtime dir (XDG_RUNTIME_DIR/codetier on Linux). A path too long for
    a Unix socket, or one under a runtime dir that does not exist, moves to
    /tmp/codetier-<uid>[-<hash>]. Linux without XDG_RUNTIME_DIR (containers,
    CI, ssh, su) goes straight there: platformdirs would warn on stderr."""
    home = os.environ.get("CODETIER_HOME")
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if home:
        base = os.path.join(home, "run")
    elif sys.platform.startswith("linux"):
        if not xdg:
            return f"/tmp/codetier-{os.getuid()}"
        base = os.path.join(xdg, "codetier")
    else:
        import warnings

        import platformdirs

        with warnings.catch_warnings():  # e.g. RuntimeDirWarning: never the user's business
            warnings.simplefilter("ignore")
            base = platformdirs.user_runtime_dir("codetier", appauthor=False)
        if not os.path.isdir(os.path.dirname(base)):
            return f"/tmp/codetier-{os.getuid()}"
    if len(os.path.join(base, SOCKET_NAME).encode()) > MAX_SOCKET_PATH:
        import hashlib

        return f"/tmp/codetier-{os.getuid()}-{hashlib.sha256(base.encode()).hexdigest()[:12]}"
    return base


def socket_path() -> str:
    return os.path.join(runtime_dir(), SOCKET_NAME)


def _private(directory: str) -> bool:
    """Only a directory we own that nobody else can enter may hold our socket."""
    try:
        st = os.stat(directory)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


def call(method: str, params: dict[str, Any] | None = None, timeout: float = 5.0) -> Any:
    """One JSON-RPC request on a fresh connection; returns its result.

    Raises Unavailable when the daemon cannot be reached or answers late, and
    RpcError when it answers with an error."""
    path = socket_path()
    if not _private(os.path.dirname(path)):
        raise Unavailable(f"no daemon (no private runtime dir at {os.path.dirname(path)})")
    if not os.path.exists(path):  # no daemon: socket (~3 ms to import) is not needed
        raise Unavailable(f"no daemon (no socket at {path})")
    import socket

    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = _read_line(sock)
    except OSError as e:  # refused, missing, timed out, reset
        raise Unavailable(f"daemon not reachable at {path}: {e}") from None
    try:
        message = json.loads(reply)
    except ValueError:
        raise Unavailable("the daemon sent a reply that is not JSON") from None
    if not isinstance(message, dict):
        raise Unavailable("the daemon sent a reply that is not a JSON-RPC response")
    if "error" in message:
        err = message["error"] or {}
        raise RpcError(int(err.get("code", -32603)), str(err.get("message", "")), err.get("data"))
    return message.get("result")


def _read_line(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the daemon closed the connection")
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


def running(timeout: float = 1.0) -> bool:
    try:
        call("ping", timeout=timeout)
    except (Unavailable, RpcError):
        return False
    return True


def staged_hash(repo: str) -> str | None:
    """A hash of everything a commit-message draft reads from git: the staged
    diff, the branch and HEAD (which fixes the recent subjects). None when
    git fails or nothing is staged. The daemon adds the registry settings."""
    import hashlib
    import subprocess

    # In a hook GIT_INDEX_FILE names the index being committed (`commit -a`
    # uses a temporary one), so the environment is passed on untouched.
    try:
        diff = subprocess.run(
            ["git", "diff", "--cached", "-M", "--no-color", "--no-ext-diff", "--full-index", "--binary"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout
        head = subprocess.run(
            ["git", "rev-parse", "--symbolic-full-name", "HEAD", "--verify", "-q", "HEAD"],
            cwd=repo,
            capture_output=True,
            check=False,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    if not diff.strip():
        return None
    return hashlib.sha256(head + b"\0" + diff).hexdigest()


def draft(repo: str, timeout: float = HOOK_TIMEOUT, wait: float = 0.0) -> str | None:
    """The hook's fast path: the daemon's draft for this repo's staged change,
    or None (no daemon, no draft, any failure: run in-process). With `wait`,
    a daemon that has no draft yet makes one now (or finishes the one in
    flight) for up to that many seconds. A cached draft is recorded in the
    ledger by the daemon as `cache_hit` at $0. With no daemon and
    `daemon.auto_start = true`, one is started for next time."""
    if not os.path.exists(socket_path()):
        _auto_start(repo)
        return None
    digest = staged_hash(repo)
    if digest is None:
        return None
    try:
        params = {"repo": repo, "staged": digest, "source": "hook", "wait": wait}
        result = call("draft", params, timeout=timeout + wait)
    except Unavailable:
        _auto_start(repo)
        return None
    except RpcError:
        return None
    if isinstance(result, dict) and isinstance(result.get("message"), str):
        return str(result["message"])
    return None


def audit_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What an audit's answer depends on besides its arguments: where config and the ledger
    are, codetier's settings from the environment, and the local time zone. The zone is
    also compared by its UTC offsets (today and half a year either side): the system's can
    change under the same TZ while a daemon keeps the one it started with."""
    env = os.environ if environ is None else environ
    out = {k: v for k, v in env.items() if k in AUDIT_ENV or k.startswith("CODETIER_")}
    day = int(time.time()) // 86_400 * 86_400
    offsets = (time.localtime(day + d).tm_gmtoff for d in (-HALF_YEAR_S, 0, HALF_YEAR_S))
    out["utc offsets"] = " ".join(map(str, offsets))  # not a variable's name: a space
    return out


def audit(paths: list[str], since: str | None, as_json: bool, timeout: float = AUDIT_TIMEOUT) -> Any:
    """A plain `codetier audit` of these absolute paths done by the daemon, which has
    everything imported already: the report, or with `as_json` its text as `--json`
    prints it. None when there is no daemon, it runs another version or environment, the
    read is big, or anything fails: the caller then runs the audit in-process."""
    if not os.path.exists(socket_path()):
        return None
    from codetier import __version__

    params: dict[str, Any] = {"paths": paths, "cwd": os.getcwd(), "env": audit_env(), "version": __version__}
    if since:
        params["since"] = since
    if as_json:
        params["text"] = True
    try:
        result = call("audit", params, timeout=timeout)
    except (Unavailable, RpcError):
        return None
    return result if isinstance(result, str if as_json else dict) else None


def _auto_start(repo: str) -> None:
    from codetier.daemon import lifecycle  # only on a miss: the in-process path is slower anyway

    lifecycle.auto_start(repo)
