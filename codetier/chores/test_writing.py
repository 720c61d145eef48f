"""Tests for a function on the balanced tier. The answer is the whole new
tests/test_<module>.py; the check requires that it parses, defines a test and
that `pytest --collect-only` collects it, in a shadow copy of the project with
the editor's unsaved buffers written in (so it sees what the user sees).

Options (from the editor): `source`, `path`, `line`, `tests_dir`, `existing`
(the current tests file, or None), `overlay` ({path: unsaved text}), `python`.
Without them (`codetier ask "..."`) the generic free-text chore answers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from codetier.chores import generic
from codetier.chores.base import Chore, Request, text_of, with_failures
from codetier.chores.pysource import code_block, function_at, module_name, parses
from codetier.engine import Check, Job, Link, Result
from codetier.providers.base import Call, Completion
from codetier.registry import Registry
from codetier.tools.buffer import shadow_tree

SYSTEM = (
    "You write pytest tests. Reply with the complete content of the tests file in one "
    "```python block: plain test functions that assert behaviour, no classes unless needed, "
    "no network. Keep every existing test in the file."
)
COLLECT_TIMEOUT = 120.0


@dataclass(frozen=True)
class WrittenTests:
    path: str  # relative to the root
    content: str
    created: bool


def tests_path(rel: str, tests_dir: str) -> str:
    return str(PurePosixPath(tests_dir) / f"test_{PurePosixPath(rel).stem}.py")


def collect(root: Path, overlay: Mapping[str, str], rel: str, content: str, python: str) -> str | None:
    """None when pytest collects at least one test from `content` at `rel`, else why not."""
    with shadow_tree(root, {**overlay, rel: content}) as shadow:
        try:
            proc = subprocess.run(
                [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", rel],
                cwd=shadow,
                capture_output=True,
                text=True,
                timeout=COLLECT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"pytest could not run: {e}"
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-6:]
        return "pytest --collect-only failed:\n" + "\n".join(tail)
    if "::" not in proc.stdout:
        return "pytest collected no tests from the file"
    return None


def job(req: Request, reg: Registry) -> Job:
    opts: Mapping[str, Any] = req.options
    if "source" not in opts:
        return generic.job(req, reg, "test_writing")
    source, rel = str(opts["source"]), str(opts["path"])
    func = function_at(source, int(opts.get("line", 0))) if "line" in opts else None
    target = tests_path(rel, str(opts.get("tests_dir", "tests")))
    existing = opts.get("existing")
    overlay: Mapping[str, str] = opts.get("overlay") or {}
    python = str(opts.get("python") or sys.executable)
    spec = reg.task("test_writing")
    what = f"the function `{func.name}`" if func else f"the module {rel}"
    parts = [
        f"Write pytest tests for {what} (import it from `{module_name(rel)}`).",
        f"Module {rel}:\n```python\n{source}\n```",
    ]
    if func:
        snippet = "\n".join(source.splitlines()[func.start : func.end + 1])
        parts.append(f"The function to test:\n```python\n{snippet}\n```")
    if existing:
        parts.append(f"The current {target} (keep its tests):\n```python\n{existing}\n```")
    parts.append(f"Reply with the complete new content of {target}.")
    prompt = "\n\n".join(parts)

    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call("test_writing", link.model, SYSTEM, with_failures(prompt, failures), spec.max_tokens)

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        code = code_block(c.text)
        broken = parses(code)
        if broken:
            return Check(False, f"the tests file does not parse: {broken}")
        names = [
            n.name
            for n in ast.walk(ast.parse(code))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
        ]
        if not names:
            return Check(False, "the tests file defines no test_ function")
        failed = collect(req.root, overlay, target, code, python)
        if failed:
            return Check(False, failed)
        return Check(True, value=WrittenTests(target, code, existing is None))

    return Job("test_writing", build, check)


def finish(req: Request, result: Result) -> str:
    if "source" not in req.options:
        return text_of(result)
    tests: WrittenTests = result.value
    return f"{'wrote' if tests.created else 'updated'} {tests.path}"


CHORE = Chore(job, finish)
