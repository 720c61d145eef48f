"""Formatting and lint fixes at the tool tier: `ruff format`, plus
`ruff check --fix` when the request is about lint (which may remove code,
such as unused imports, so plain "format" never runs it)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from codetier.chores.base import Chore, Request
from codetier.engine import Check, Job, Link, Result
from codetier.errors import UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

LINT_WORDS = re.compile(r"(?<!\w)(lint|linting|linter|fix|fixes|imports?|ruff check)(?!\w)", re.I)
PY_WORD = re.compile(r"[\w./-]+\.pyi?\b")


def _paths(req: Request) -> list[str]:
    paths = [req.rel(p) for p in req.files if p.suffix in (".py", ".pyi")]
    if not paths:
        missing = [w for w in PY_WORD.findall(req.text) if not (req.root / w).exists()]
        if missing:
            raise UsageError(f"no such file: {', '.join(missing)}")
        raise UsageError("format_fix needs Python files: name them with --file or in the request")
    return paths


def wants_lint_fixes(text: str) -> bool:
    """`format x.py` formats; `fix the lint in x.py` also applies ruff's fixes."""
    return bool(LINT_WORDS.search(text))


def job(req: Request, reg: Registry) -> Job:
    paths = _paths(req)
    spec = reg.task("format_fix")
    listing = "\n\n".join(f"{req.rel(p)}:\n{p.read_text('utf-8', errors='replace')}" for p in req.files)

    fix = wants_lint_fixes(req.text)

    def build(link: Link, failures: Sequence[str]) -> Call:
        what = "Format these files and fix their lint errors" if fix else "Format these files"
        prompt = f"{what}:\n\n{listing}"
        payload = {"root": str(req.root), "paths": paths, "fix": fix}
        return Call("format_fix", link.model, "", prompt, spec.max_tokens, payload=payload)

    def check(c: Completion) -> Check:
        try:
            return Check(True, value=json.loads(c.text))
        except json.JSONDecodeError:
            return Check(False, "ruff's report was not JSON")

    return Job("format_fix", build, check)


def finish(req: Request, result: Result) -> str:
    report = result.value
    lines = [f"reformatted {p}" for p in report["formatted"]]
    lines += [f"fixed {p}" for p in report["fixed"] if p not in report["formatted"]]
    lines += [f"left for you: {f}" for f in report["remaining"]]
    return "\n".join(lines) or "nothing to change"


CHORE = Chore(job, finish)
