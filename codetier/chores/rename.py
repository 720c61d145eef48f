"""Renames through rope, across modules, at $0. The check parses every file
the rename changes before any of them is written."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence

from codetier.chores.base import Chore, Request
from codetier.engine import Check, Job, Link, Result
from codetier.errors import UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

PATTERN = re.compile(r"\brename\s+`?([A-Za-z_]\w*)`?\s+(?:to|as|->)\s+`?([A-Za-z_]\w*)`?", re.I)


def parse(text: str) -> tuple[str, str]:
    m = PATTERN.search(text)
    if not m:
        raise UsageError('say what to rename as "rename OLD to NEW"')
    return m.group(1), m.group(2)


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
    for path, content in result.value["contents"].items():
        (req.root / path).write_text(content, "utf-8")
    changed = ", ".join(sorted(result.value["contents"])) or "no files"
    return f"renamed {result.value['old']} to {result.value['new']} in {changed}"


CHORE = Chore(job, finish)
