"""Docstrings on the fast tier. The check inserts the answer into the module
and requires that the module still parses and the function now has a docstring.

Options (from the editor): `source` (the buffer), `path`, `line` (0-based, in
the function). Without them (`codetier ask "..."`) the generic free-text chore answers.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from codetier.chores import generic
from codetier.chores.base import Chore, Request, text_of, with_failures
from codetier.chores.pysource import Function, code_block, function_at, parses
from codetier.engine import Check, Job, Link, Result
from codetier.errors import UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

SYSTEM = (
    "You write Python docstrings. Reply with the docstring only, as one triple-quoted string "
    "literal: a one-line summary, then (if useful) a blank line and short sections for the "
    "arguments, the return value and raised exceptions. No code, no commentary."
)


@dataclass(frozen=True)
class Edit:
    """Replace lines start..end (0-based, end exclusive) with `text`."""

    start: int
    end: int
    text: str
    source: str  # the whole module after the edit


def target(req: Request) -> tuple[str, str, Function]:
    """(path, source, function) from the editor's options."""
    source, path = str(req.options["source"]), str(req.options.get("path", "<buffer>"))
    func = function_at(source, int(req.options.get("line", 0)))
    if func is None:
        raise UsageError(f"{path}: no function or class here to document")
    return path, source, func


def docstring_text(answer: str) -> str | None:
    """The docstring's content from an answer: a string literal, a def with a
    docstring, or plain prose."""
    code = code_block(answer).strip()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    if tree is not None and tree.body:
        first = tree.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            value = first.value.value
            return value.strip() if isinstance(value, str) else None
        if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return (ast.get_docstring(first) or "").strip() or None
    if '"""' in code or "'''" in code or "def " in code:
        return None
    return code or None


def render(content: str, indent: str) -> str:
    """The docstring as source lines at `indent`."""
    content = content.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = content.splitlines()
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    body = "".join(f"{indent}{line}".rstrip() + "\n" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{body}{indent}"""\n'


def apply(source: str, func: Function, content: str) -> Edit:
    text = render(content, func.indent)
    lines = source.splitlines(keepends=True)
    if func.docstring is not None:
        start, end = func.docstring[0], func.docstring[1] + 1
    elif func.body == func.start or func.body <= func.start:
        raise UsageError(f"{func.name}: a one-line definition; split it before adding a docstring")
    else:
        start = end = func.body
    new = "".join(lines[:start]) + text + "".join(lines[end:])
    return Edit(start, end, text, new)


def job(req: Request, reg: Registry) -> Job:
    if "source" not in req.options:
        return generic.job(req, reg, "docstring")
    path, source, func = target(req)
    spec = reg.task("docstring")
    lines = source.splitlines()
    snippet = "\n".join(lines[func.start : func.end + 1])
    prompt = f"Write the docstring for `{func.name}` in {path}:\n\n```python\n{snippet}\n```"

    def build(link: Link, failures: Sequence[str]) -> Call:
        return Call("docstring", link.model, SYSTEM, with_failures(prompt, failures), spec.max_tokens)

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        content = docstring_text(c.text)
        if not content:
            return Check(False, "the answer was not a docstring (reply with one triple-quoted string)")
        edit = apply(source, func, content)
        broken = parses(edit.source)
        if broken:
            return Check(False, f"the module would not parse with this docstring: {broken}")
        node = function_at(edit.source, edit.start)
        if node is None or node.name != func.name or node.docstring is None:
            return Check(False, f"{func.name} would still have no docstring")
        return Check(True, value=edit)

    return Job("docstring", build, check)


def finish(req: Request, result: Result) -> str:
    if "source" not in req.options:
        return text_of(result)
    edit: Edit = result.value
    return edit.text


CHORE = Chore(job, finish)
