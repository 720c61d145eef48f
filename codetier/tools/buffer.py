"""Deterministic tools on editor buffers: text in, text out, nothing written
to the project. Unsaved buffers are honoured through a shadow copy of the
project's Python files with the buffers written in."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from codetier.tools import rope, ruff

# Files beside the Python sources that change how pytest and rope see a project.
CONFIG_FILES = ("pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini", ".codetier.toml")


@contextlib.contextmanager
def shadow_tree(root: Path, overlay: Mapping[str, str]) -> Iterator[Path]:
    """A temporary copy of the project's Python and config files with `overlay`
    ({relative path: text}) written over them; removed on exit."""
    with tempfile.TemporaryDirectory(prefix="codetier-shadow-") as tmp:
        shadow = Path(tmp)
        for path in rope.python_files(root):
            rel = path.relative_to(root)
            (shadow / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, shadow / rel)
        for name in CONFIG_FILES:
            if (root / name).is_file():
                shutil.copyfile(root / name, shadow / name)
        for name, text in overlay.items():
            target = shadow / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
        yield shadow


def lint_fix_text(payload: Mapping[str, Any]) -> str:
    """Tool handler: fix a buffer; JSON {text, remaining: [{line, code, message}]}."""
    root, filename = Path(payload["root"]), str(payload["filename"])
    fixed = ruff.fix_text(str(payload["text"]), filename, root)
    remaining = [
        {"line": f.line, "code": f.code, "message": f.message}
        for f in ruff.findings_text(fixed, filename, root)
    ]
    return json.dumps({"text": fixed, "remaining": remaining})


def rename_at(payload: Mapping[str, Any]) -> str:
    """Tool handler: rope rename at an offset, on the buffers in `overlay`.

    JSON {old, new, contents: {relative path: new text}, diff}.
    """
    root = Path(payload["root"])
    overlay: Mapping[str, str] = payload.get("overlay") or {}
    rel, offset, new = str(payload["path"]), int(payload["offset"]), str(payload["new"])
    if overlay:
        with shadow_tree(root, overlay) as shadow:
            result = rope.rename_at(shadow, shadow / rel, offset, new)
    else:
        result = rope.rename_at(root, root / rel, offset, new)
    return json.dumps(
        {"old": result.old, "new": result.new, "contents": result.contents, "diff": result.diff}
    )
