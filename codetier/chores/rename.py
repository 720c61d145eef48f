"""Renames through rope, across modules, at $0. The check parses every file
the rename changes before any of them is written."""

from __future__ import annotations

import ast
import json
import keyword
import re
from collections.abc import Sequence

from codetier.chores.base import Chore, Request
from codetier.engine import Check, Job, Link, Result
from codetier.errors import UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

_KIND = r"(?:function|func|class|method|variable|var|constant|const)"
_NAME = r"[`'\"]?([^\s`'\"]+?)[`'\"]?"
# rename [the] [KIND] OLD [KIND] to|as|-> NEW, e.g. "rename the make_user function to create_user"
PATTERN = re.compile(
    rf"\brename\s+(?:the\s+)?(?:{_KIND}\s+)?{_NAME}(?:\s+{_KIND})?\s+(?:to|as|->)\s+{_NAME}(?=[.,;:!?]*(?:\s|$))",
    re.I,
)


def _identifier(name: str, which: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"cannot rename: the {which} name {name!r} is not a valid Python identifier")
    return name


def parse(text: str) -> tuple[str, str]:
    m = PATTERN.search(text)
    if not m:
        raise UsageError(
            'say what to rename as "rename OLD to NEW" (e.g. "rename the make_user function to create_user")'
        )
    return _identifier(m.group(1), "old"), _identifier(m.group(2), "new")


def job(req: Request, reg: Registry) -> Job:
    old, new = parse(req.text)
    spec = reg.task("rename")

    def build(link: Link, failures: Sequence[str]) -> Call:
        payload = {
            "root": str(req.root),
            "old": old,
            "new": new,
            "files": [req.rel(f) for f in req.files],
        }
        return Call(
            "rename",
            link.model,
            "",
            f"Rename {old} to {new} everywhere.",
            spec.max_tokens,
            payload=payload,
        )

    def check(c: Completion) -> Check:
        result = json.loads(c.text)
        for path, content in result["contents"].items():
            try:
                ast.parse(content)
            except SyntaxError as e:
                return Check(False, f"{path} would not parse after the rename: {e.msg}")
        return Check(True, value=result)

    return Job("rename", build, check)


def finish(req: Request, result: Result) -> str:
    """Write through the plan transaction: all or nothing, an undo point, and
    files with uncommitted changes refused unless options["force"]."""
    from codetier.plan import transaction
    from codetier.plan.patch import FileEdit

    contents: dict[str, str] = result.value["contents"]
    old, new = result.value["old"], result.value["new"]
    if not contents:
        return f"renamed {old} to {new} in no files"
    edits = {}
    for path, after in contents.items():
        target = req.root / path
        before = target.read_bytes().decode("utf-8") if target.is_file() else None
        edits[path] = FileEdit(path, before, after)
    point = transaction.apply(req.root, edits, result.request_id, force=bool(req.options.get("force")))
    changed = ", ".join(sorted(contents))
    return f"renamed {old} to {new} in {changed} (undo point {point.id}; `codetier undo` restores them)"


CHORE = Chore(job, finish)
