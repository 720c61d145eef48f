"""Code review on the balanced tier, returning findings as JSON so the editor
can show them as diagnostics. The check: JSON that fits the schema, with
every finding inside the reviewed lines.

Options (from the editor): `source`, `path`, `start`, `end` (0-based lines,
inclusive). Without them (`codetier ask "..."`) the generic free-text chore answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codetier.chores import generic
from codetier.chores.base import Chore, Request, text_of, with_failures
from codetier.chores.pysource import code_block, numbered
from codetier.engine import Check, Job, Link, Result
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

SEVERITIES = ("error", "warning", "info", "hint")
SYSTEM = (
    "You review code for bugs, risky behaviour and unclear code. Reply with JSON only:\n"
    '{"findings": [{"line": <1-based line>, "end_line": <1-based line>, '
    '"severity": "error" | "warning" | "info" | "hint", "message": "<one sentence>"}]}\n'
    'Use the line numbers shown. No findings: {"findings": []}.'
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 1-based
    end_line: int
    severity: str
    message: str


def parse(text: str, path: str, first: int, last: int) -> list[Finding] | str:
    """Findings from an answer, or the reason it does not fit (1-based bounds)."""
    raw = code_block(text, ("json", "")).strip()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        return f"the answer is not JSON: {e.msg} at line {e.lineno}"
    items = data.get("findings") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        return 'expected {"findings": [...]}'
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            return f"findings[{i}] is not an object"
        line, end = item.get("line"), item.get("end_line", item.get("line"))
        severity, message = item.get("severity", "warning"), item.get("message")
        if not isinstance(line, int) or not isinstance(end, int) or isinstance(line, bool):
            return f"findings[{i}].line must be a whole number"
        if not first <= line <= last or not line <= end <= last:
            return f"findings[{i}] is at line {line}, outside the reviewed lines {first}-{last}"
        if severity not in SEVERITIES:
            return f"findings[{i}].severity must be one of {', '.join(SEVERITIES)}"
        if not isinstance(message, str) or not message.strip():
            return f"findings[{i}].message must be a sentence"
        out.append(Finding(path, line, end, severity, message.strip()))
    return out


def job(req: Request, reg: Registry) -> Job:
    opts: Mapping[str, Any] = req.options
    if "source" not in opts:
        return generic.job(req, reg, "code_review")
    path = str(opts["path"])
    lines = str(opts["source"]).splitlines()
    start = int(opts.get("start", 0))
    end = min(int(opts.get("end", len(lines) - 1)), max(len(lines) - 1, 0))
    parts = [f"Review {path}, lines {start + 1}-{end + 1}:\n```\n{numbered(lines, start, end)}\n```"]
    if req.text:
        parts.append(f"The user asks: {req.text}")
    prompt = "\n\n".join(parts)
    spec = reg.task("code_review")

    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call("code_review", link.model, SYSTEM, with_failures(prompt, failures), spec.max_tokens)

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        found = parse(c.text, path, start + 1, end + 1)
        if isinstance(found, str):
            return Check(False, found)
        return Check(True, value=found)

    return Job("code_review", build, check)


def finish(req: Request, result: Result) -> str:
    if "source" not in req.options:
        return text_of(result)
    findings: list[Finding] = result.value
    lines = [f"{f.path}:{f.line}: {f.severity}: {f.message}" for f in findings]
    return "\n".join(lines) or "no findings"


CHORE = Chore(job, finish)
