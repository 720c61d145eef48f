"""Apply a checked change all or nothing, with an undo point; and undo it.

An undo point is a directory under `.git/codetier/undo/` (or, outside git,
under CODETIER_HOME/undo/<hash of the root>/) holding the exact bytes of every
file before the change, and a manifest with each file's hash after it, so
`codetier undo` can tell whether the files were edited since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codetier import paths
from codetier.errors import CodetierError
from codetier.plan.patch import FileEdit

MANIFEST = "manifest.json"


class ApplyRefused(CodetierError):
    """Applying would overwrite work, or the tree changed under the plan."""


@dataclass(frozen=True)
class UndoPoint:
    dir: Path
    manifest: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def files(self) -> list[str]:
        return [f["path"] for f in self.manifest["files"]]


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def store(root: Path) -> Path:
    proc = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        return Path(proc.stdout.strip()) / "codetier" / "undo"
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return paths.home() / "undo" / digest


def uncommitted(root: Path, names: Sequence[str]) -> list[str]:
    """Which of `names` differ from HEAD (staged, unstaged or untracked)."""
    if not names:
        return []
    proc = subprocess.run(
        ["git", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *names],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return []  # not a git repo: nothing to compare with; the undo point still protects
    dirty = set()
    for entry in proc.stdout.split("\0"):
        if len(entry) > 3:
            dirty.add(entry[3:])
    return sorted(n for n in names if n in dirty)


def preflight(root: Path, edits: Mapping[str, FileEdit], *, force: bool) -> None:
    """Refuse when a file changed while the plan ran, or holds uncommitted work (unless forced)."""
    moved = [
        p for p, e in edits.items() if _read(root / p) != (None if e.before is None else e.before.encode())
    ]
    if moved:
        raise ApplyRefused(f"changed while the plan ran, nothing applied: {', '.join(sorted(moved))}")
    if not force:
        refuse_uncommitted(root, sorted(edits), "the undo point keeps them either way")


def refuse_uncommitted(root: Path, names: Sequence[str], note: str) -> None:
    dirty = uncommitted(root, sorted(set(names)))
    if dirty:
        raise ApplyRefused(
            f"uncommitted changes in {', '.join(dirty)}: commit or stash them, or pass --force ({note})"
        )


def _write(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".codetier")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode(path: Path) -> int | None:
    return path.stat().st_mode & 0o7777 if path.is_file() else None


def apply(root: Path, edits: Mapping[str, FileEdit], request_id: str, *, force: bool = False) -> UndoPoint:
    """Write every edit, or none: a failure part way restores what was written."""
    preflight(root, edits, force=force)
    now = dt.datetime.now(dt.UTC)
    point_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    pdir = store(root) / point_id
    (pdir / "before").mkdir(parents=True)
    files: list[dict[str, Any]] = []
    for n, (path, e) in enumerate(sorted(edits.items())):
        before = _read(root / path)
        blob = None
        if before is not None:
            blob = f"before/{n}"
            (pdir / blob).write_bytes(before)
        after = None if e.after is None else e.after.encode("utf-8")
        files.append({"path": path, "before": blob, "mode": _mode(root / path), "after_sha256": _sha(after)})
    manifest = {
        "id": point_id,
        "request_id": request_id,
        "created": now.isoformat(timespec="seconds"),
        "root": str(root),
        "files": files,
        "undone": False,
    }
    (pdir / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
    point = UndoPoint(pdir, manifest)
    written: list[dict[str, Any]] = []
    for f in files:
        e = edits[f["path"]]
        target = root / f["path"]
        try:
            if e.after is None:
                target.unlink(missing_ok=True)
            else:
                _write(target, e.after.encode("utf-8"), f["mode"])
        except BaseException as err:  # an OSError, or ^C part way: put back what was written
            _restore(root, point, written)
            shutil.rmtree(pdir, ignore_errors=True)
            if isinstance(err, OSError):
                raise CodetierError(f"could not write {f['path']}: {err.strerror}; nothing applied") from None
            raise
        written.append(f)
    return point


def _restore(root: Path, point: UndoPoint, files: Sequence[Mapping[str, Any]]) -> None:
    for f in files:
        target = root / f["path"]
        if f["before"] is None:
            target.unlink(missing_ok=True)
            _prune_dirs(root, target.parent)
        else:
            _write(target, (point.dir / f["before"]).read_bytes(), f["mode"])


def _prune_dirs(root: Path, d: Path) -> None:
    """Remove directories the change created and left empty."""
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


def points(root: Path) -> list[UndoPoint]:
    """Undo points for this repo, newest first."""
    base = store(root)
    out = []
    for d in sorted(base.glob("*/"), reverse=True) if base.is_dir() else []:
        try:
            manifest = json.loads((d / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        out.append(UndoPoint(d, manifest))
    return out


def undo(root: Path, *, force: bool = False) -> UndoPoint:
    """Restore the exact bytes from the newest undo point not yet undone."""
    pending = [p for p in points(root) if not p.manifest.get("undone")]
    if not pending:
        raise CodetierError(
            "nothing to undo: no applied change (ask --apply, or a rename) recorded for this repository"
        )
    point = pending[0]
    edited = [
        f["path"] for f in point.manifest["files"] if _sha(_read(root / f["path"])) != f["after_sha256"]
    ]
    if edited and not force:
        raise ApplyRefused(
            f"edited since the plan was applied: {', '.join(edited)}; pass --force to restore anyway"
        )
    _restore(root, point, point.manifest["files"])
    manifest = {**point.manifest, "undone": True}
    (point.dir / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
    return UndoPoint(point.dir, manifest)
