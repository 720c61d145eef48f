"""A cross-module refactor answered in one deep call as a unified diff. The
check: the diff parses (unidiff), applies to the current content (the editor's
buffers over the files on disk) and every touched Python file still parses.

This is the editor's interim path until plan → execute (codetier/plan/) takes
over; it is deliberately not registered in CHORES so `codetier ask` keeps
routing cross_file_refactor to the planner.

Options: `files` ({path: text} sent as context), `buffers` ({path: unsaved text}).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from codetier.chores.base import Chore, Request, with_failures
from codetier.chores.patch import Applied, PatchError, apply, extract
from codetier.chores.pysource import parses
from codetier.engine import Check, Job, Link, Result
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

SYSTEM = (
    "You are a senior engineer making a change across several modules. Reply with one unified "
    "diff in a ```diff block, paths relative to the repository root with a/ and b/ prefixes "
    "(--- /dev/null for new files), three lines of context, hunks that match the files exactly "
    "as shown. Change only what the request needs; keep behaviour the same unless asked."
)


def reader(req: Request) -> Any:
    buffers: Mapping[str, str] = req.options.get("buffers") or {}

    def read(path: str) -> str | None:
        if path in buffers:
            return buffers[path]
        full = req.root / path
        try:
            return full.read_text("utf-8") if full.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    return read


def job(req: Request, reg: Registry) -> Job:
    files: Mapping[str, str] = req.options.get("files") or {}
    listing = "\n\n".join(f"File {path}:\n```\n{text}\n```" for path, text in files.items())
    prompt = f"Request: {req.text}\n\n{listing}\n\nReply with the unified diff."
    spec = reg.task("cross_file_refactor")
    read = reader(req)

    def build(link: Link, failures: Sequence[str]) -> Call:
        model = reg.models.get(link.model) if link.model else None
        effort = spec.effort if model and model.effort else None
        return Call(
            "cross_file_refactor",
            link.model,
            SYSTEM,
            with_failures(prompt, failures),
            spec.max_tokens,
            effort=effort,
        )

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        try:
            applied = apply(extract(c.text), read)
        except PatchError as e:
            return Check(False, str(e))
        for path, text in applied.contents.items():
            broken = parses(text) if text is not None and path.endswith(".py") else None
            if broken:
                return Check(False, f"{path} would not parse after the change: {broken}")
        return Check(True, value=applied)

    return Job("cross_file_refactor", build, check)


def finish(req: Request, result: Result) -> str:
    applied: Applied = result.value
    return "\n".join(
        f"{'deleted' if text is None else 'created' if path in applied.created else 'changed'} {path}"
        for path, text in applied.contents.items()
    )


CHORE = Chore(job, finish)
