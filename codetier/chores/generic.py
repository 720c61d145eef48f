"""Free-text chores answered by a model: explain, review, tests, implement,
architecture, refactors, debugging, docstrings."""

from __future__ import annotations

from codetier.chores.base import Chore, Request, builder, not_truncated, text_of
from codetier.engine import Job
from codetier.registry import Registry

SYSTEM = {
    "standard": "You are a senior software engineer. Answer the request precisely and concisely.",
    # Small models do better with the shape of the answer spelled out.
    "explicit": (
        "You are a careful software engineer. Do exactly what the request asks and nothing more.\n"
        "Rules:\n"
        "1. Answer in plain text or Markdown; put code in fenced blocks.\n"
        "2. Do not invent files, functions or APIs that the context does not show.\n"
        "3. Keep the answer short: no preamble, no closing summary."
    ),
}


def prompt_for(req: Request) -> str:
    parts = [f"Request: {req.text}"]
    for path in req.files:
        body = path.read_text("utf-8", errors="replace")
        parts.append(f"File {req.rel(path)}:\n```\n{body}\n```")
    return "\n\n".join(parts)


def job(req: Request, reg: Registry, task: str) -> Job:
    spec = reg.task(task)
    base = prompt_for(req)

    return Job(task, builder(spec, SYSTEM, base), not_truncated)


def chore(task: str) -> Chore:
    return Chore(lambda req, reg: job(req, reg, task), lambda req, result: text_of(result))
