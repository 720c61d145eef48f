"""Plain git hooks for repos without pre-commit: install and uninstall.

An existing hook that is not ours is never overwritten unless forced; when
forced it is kept beside ours as `<hook>.legacy` (pre-commit's convention),
our hook runs it first with the same arguments (its failure fails the
commit, as in pre-commit's migration mode), and `uninstall` puts it back.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from codetier.errors import UsageError
from codetier.tools import git

MARKER = "# codetier-hook:"
STEPS = ("fix", "changelog")  # pre-commit stage hooks, in the order they run


def template(name: str) -> str:
    return resources.files("codetier_hooks").joinpath("git", name).read_text("utf-8")


def _foreign(path: Path) -> bool:
    """A hook is there and it is not one of ours."""
    if not (path.exists() or path.is_symlink()):
        return False
    return not path.is_file() or MARKER not in path.read_text("utf-8", errors="replace")


def _refuse(path: Path) -> UsageError:
    current = path.read_text("utf-8", errors="replace") if path.is_file() else ""
    hint = (
        " (it is pre-commit's: add codetier to .pre-commit-config.yaml instead)"
        if "pre-commit" in current
        else ""
    )
    return UsageError(
        f"{path} exists and is not codetier's{hint}; use --force to install anyway"
        f" (the old hook is kept as {path.name}.legacy and still runs first)"
    )


def _write(path: Path, text: str) -> str:
    """Swap the hook in whole: a `git commit` running meanwhile sees the old hook or the
    new one, never half a file or one not yet executable."""
    tmp = path.with_name(f".{path.name}.codetier-{os.getpid()}")
    try:
        tmp.write_text(text, "utf-8")
        tmp.chmod(0o755)
        if _foreign(path):
            legacy = path.with_name(path.name + ".legacy")
            if path.is_file() and not path.is_symlink():
                shutil.copy2(path, legacy)  # the old hook stays in place until the new one lands
            else:
                path.replace(legacy)  # a link (kept a link) or anything else: moved aside
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return f"installed {path}"


def install(
    root: Path, *, steps: Sequence[str] = (), force: bool = False, python: str | None = None
) -> list[str]:
    """Write prepare-commit-msg, and a pre-commit hook running `steps` (fix, changelog)."""
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise UsageError(f"unknown hook step {unknown[0]!r}; expected {', '.join(STEPS)}")
    hooks = git.git_path(root, "hooks")
    hooks.mkdir(parents=True, exist_ok=True)
    exe = python or sys.executable
    wanted = {"prepare-commit-msg": template("prepare-commit-msg").replace("@PYTHON@", exe)}
    if steps:
        ordered = " ".join(s for s in STEPS if s in steps)
        wanted["pre-commit"] = template("pre-commit").replace("@PYTHON@", exe).replace("@STEPS@", ordered)
    if not force:  # check every target before touching any
        for name in wanted:
            if _foreign(hooks / name):
                raise _refuse(hooks / name)
    return [_write(hooks / name, text) for name, text in wanted.items()]


def uninstall(root: Path) -> list[str]:
    hooks = git.git_path(root, "hooks")
    done = []
    for name in ("prepare-commit-msg", "pre-commit"):
        path = hooks / name
        if path.is_file() and MARKER in path.read_text("utf-8", errors="replace"):
            path.unlink()
            legacy = path.with_name(name + ".legacy")
            if legacy.exists():
                legacy.replace(path)
                done.append(f"restored {path} from {legacy.name}")
            else:
                done.append(f"removed {path}")
    return done
