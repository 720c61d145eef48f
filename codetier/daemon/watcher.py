"""Watching repos' git directories (never their work trees) with watchdog.

Each repo's git dir is watched non-recursively: `git add` rewrites `index`
(through `index.lock` and a rename), a commit or checkout moves `HEAD` or a
ref. Bursts of events are debounced into one look at the staged change.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("codetier.daemon")
DEBOUNCE_S = 0.1
INTERESTING = {"index", "HEAD", "ORIG_HEAD"}


def git_dir(repo: Path) -> Path:
    """The repo's git directory (`.git`, or where a worktree's `.git` file points)."""
    out = subprocess.run(
        ["git", "rev-parse", "--absolute-git-dir"], cwd=repo, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise ValueError(f"{repo} is not a git repository")
    return Path(out.stdout.strip())


class _Debounced(FileSystemEventHandler):  # type: ignore[misc]  # watchdog is untyped here
    def __init__(self, fire: Callable[[], None], delay: float) -> None:
        self.fire, self.delay = fire, delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        names = {
            os.path.basename(str(event.src_path)),
            os.path.basename(str(getattr(event, "dest_path", ""))),
        }
        if not names & INTERESTING:
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self.fire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class Watcher:
    """One observer thread for every watched repo; `changed(repo)` runs after
    each debounced burst, on a timer thread."""

    def __init__(self, changed: Callable[[str], None], delay: float = DEBOUNCE_S) -> None:
        self.changed, self.delay = changed, delay
        self._observer: Any = None
        self._repos: dict[str, tuple[Any, _Debounced]] = {}
        self._lock = threading.Lock()

    def watch(self, repo: str) -> bool:
        """Start watching; False when it was already watched."""
        with self._lock:
            if repo in self._repos:
                return False
            directory = git_dir(Path(repo))
            if self._observer is None:
                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            handler = _Debounced(lambda: self.fire(repo), self.delay)
            watch = self._observer.schedule(handler, str(directory), recursive=False)
            self._repos[repo] = (watch, handler)
            log.info("watching %s (%s)", repo, directory)
            return True

    def fire(self, repo: str) -> None:
        """Run `changed(repo)` now, logging (never raising) its failure."""
        try:
            self.changed(repo)
        except Exception:
            log.exception("handling a change in %s failed", repo)

    def repos(self) -> list[str]:
        with self._lock:
            return sorted(self._repos)

    def stop(self) -> None:
        with self._lock:
            for _, handler in self._repos.values():
                handler.cancel()
            if self._observer is not None:
                self._observer.stop()
                self._observer.join(timeout=5)
                self._observer = None
            self._repos.clear()
