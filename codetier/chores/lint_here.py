"""Lint fixes on a buffer, for a region: `ruff check --fix` at the tool tier;
when configured, what ruff leaves in the region goes to the fast tier, whose
answer (the region rewritten) must parse and leave fewer findings there.

Recorded as task format_fix. Options: `source`, `path`, `start`, `end`
(0-based lines of the region, inclusive).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from codetier.chores.base import Request, with_failures
from codetier.chores.pysource import code_block, parses
from codetier.engine import Check, Job, Link
from codetier.providers.base import Call, Completion
from codetier.registry import Registry
from codetier.tools.ruff import findings_text

SYSTEM = (
    "You fix Python lint errors. Reply with the given lines rewritten, in one ```python block, "
    "with the same indentation and behaviour; change only what the lint errors need."
)


@dataclass(frozen=True)
class Fixed:
    source: str  # the whole buffer after the fix
    remaining: tuple[str, ...]  # findings left in the region, as "line: CODE message"


def _in_region(remaining: Sequence[dict[str, object]], start: int, end: int) -> list[str]:
    out = []
    for f in remaining:
        line = int(str(f.get("line", 0)))
        if start + 1 <= line <= end + 1:
            out.append(f"{line}: {f.get('code')} {f.get('message')}")
    return out


def job(req: Request, reg: Registry) -> Job:
    source, path = str(req.options["source"]), str(req.options["path"])
    start, end = int(req.options["start"]), int(req.options["end"])
    escalate = bool(req.options.get("with_model"))
    spec = reg.task("format_fix")
    state: dict[str, Fixed] = {}

    def build(link: Link, failures: Sequence[str]) -> Call:
        if link.model is None:
            payload = {"root": str(req.root), "filename": path, "text": source}
            return Call("lint_fix_text", None, "", f"ruff check --fix {path}", 0, payload=payload)
        base = state.get("tool", Fixed(source, ()))
        lines = base.source.splitlines()
        region = "\n".join(lines[start : end + 1])
        found = "\n".join(f"- line {r}" for r in base.remaining)
        prompt = f"Lint errors in {path} (lines {start + 1}-{end + 1}):\n{found}\n\n```python\n{region}\n```"
        return Call(
            "format_fix", link.model, SYSTEM, with_failures(prompt, failures), max(spec.max_tokens, 2000)
        )

    def check(c: Completion) -> Check:
        if c.model is None:  # ruff's report
            report = json.loads(c.text)
            fixed = Fixed(str(report["text"]), tuple(_in_region(report["remaining"], start, end)))
            state["tool"] = fixed
            if escalate and fixed.remaining:
                return Check(False, f"ruff left {len(fixed.remaining)} finding(s) here: {fixed.remaining[0]}")
            return Check(True, value=fixed)
        base = state.get("tool", Fixed(source, ()))
        lines = base.source.splitlines(keepends=True)
        body = code_block(c.text)
        new = (
            "".join(lines[:start]) + body + ("" if body.endswith("\n") else "\n") + "".join(lines[end + 1 :])
        )
        broken = parses(new)
        if broken:
            return Check(False, f"the rewritten lines do not parse: {broken}")
        left = [f"{f.line}: {f.code} {f.message}" for f in findings_text(new, path, req.root)]
        left = [f for f in left if start + 1 <= int(f.split(":")[0]) <= end + 1 + body.count("\n")]
        if len(left) >= len(base.remaining):
            return Check(False, f"the lint errors remain: {left[0] if left else ''}")
        return Check(True, value=Fixed(new, tuple(left)))

    return Job("format_fix", build, check)
