"""`python -m codetier.daemon [--detach] [--watch REPO]...`: the daemon process.

With --detach it forks: the child leaves the session and serves, logging to
daemon.log; the parent waits until the socket answers (or the child exits)
and returns, so whoever launched it has no child left to reap.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Sequence

from codetier.daemon import client


def _settings() -> tuple[float, float]:
    """(idle_minutes, worker_idle_s), checked now: a bad value is reported at start, not per draft."""
    from codetier import config, registry

    cfg = config.load()
    reader = registry.Reader(cfg)
    reader.boolean("daemon.precompute", True)
    idle = float(reader.number("daemon.idle_minutes", default=0) or 0)
    return idle, float(reader.number("daemon.worker_idle_s", default=300) or 0)


def _log_to_file() -> None:
    from codetier.daemon import lifecycle

    path = lifecycle.log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=1)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(fd, 2)  # a crash's traceback lands in the log


def _wait_for(child: int) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if client.running(timeout=0.5):
            return 0
        try:
            done, status = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:  # SIGCHLD ignored: it ended and was reaped, status unknown
            return 0 if client.running(timeout=1.0) else 1
        if done:
            # Lost a race (0: the other daemon answers) or failed to start.
            code = os.waitstatus_to_exitcode(status)
            return code if code else (0 if client.running(timeout=1.0) else 1)
        time.sleep(0.02)
    sys.stderr.write("codetier: the daemon did not answer within 15 s\n")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    detach = "--detach" in args
    watch = [os.path.abspath(args[i + 1]) for i, a in enumerate(args[:-1]) if a == "--watch"]
    from codetier.errors import CodetierError

    try:
        idle, worker_idle = _settings()
    except CodetierError as e:
        sys.stderr.write(f"codetier: {e}\n")
        return 2
    if detach:
        child = os.fork()
        if child:
            return _wait_for(child)
        os.setsid()
        os.chdir("/")
        _log_to_file()
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from codetier.daemon.server import serve

    try:
        return serve(watch, idle, worker_idle_s=worker_idle)
    except CodetierError as e:
        logging.getLogger("codetier.daemon").error("%s", e)
        sys.stderr.write(f"codetier: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
