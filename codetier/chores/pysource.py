"""Small helpers over Python source for chores that edit code: the function
at a line, code blocks in a model's answer, dotted module names."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class Function:
    """A def (or class) found with `ast`; lines are 0-based, `end` inclusive."""

    name: str
    start: int
    end: int
    body: int  # first line of the body
    indent: str  # the body's indentation
    docstring: tuple[int, int] | None  # (first, last) line of an existing docstring


def function_at(source: str, line: int) -> Function | None:
    """The innermost function or class whose lines include `line`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    lines = source.splitlines()
    best: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            if first <= line <= (node.end_lineno or node.lineno) - 1 and (
                best is None or node.lineno >= best.lineno
            ):
                best = node
    if best is None:
        return None
    body0 = best.body[0]
    body_line = body0.lineno - 1
    text = lines[body_line] if body_line < len(lines) else ""
    indent = text[: len(text) - len(text.lstrip())]
    if body_line == best.lineno - 1:  # `def f(): return 1` on one line
        indent = " " * (best.col_offset + 4)
    doc = None
    if (
        isinstance(body0, ast.Expr)
        and isinstance(body0.value, ast.Constant)
        and isinstance(body0.value.value, str)
    ):
        doc = (body0.lineno - 1, (body0.end_lineno or body0.lineno) - 1)
    first = min([best.lineno, *(d.lineno for d in best.decorator_list)]) - 1
    return Function(best.name, first, (best.end_lineno or best.lineno) - 1, body_line, indent, doc)


def code_block(text: str, prefer: tuple[str, ...] = ("python", "py", "")) -> str:
    """The first fenced block in a preferred language, else the whole answer."""
    blocks = FENCE.findall(text)
    for lang in prefer:
        for found, body in blocks:
            if found.lower() == lang:
                return str(body)
    if blocks:
        return str(blocks[0][1])
    return text.strip() + "\n"


def parses(source: str) -> str | None:
    """None when `source` parses, else the reason."""
    try:
        ast.parse(source)
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    return None


def module_name(rel: str) -> str:
    """`pkg/mod.py` → `pkg.mod`; a leading `src/` is dropped."""
    parts = list(PurePosixPath(rel.replace("\\", "/")).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def numbered(lines: list[str], start: int, end: int) -> str:
    """Lines start..end (0-based, inclusive) with their 1-based numbers."""
    width = len(str(end + 1))
    return "\n".join(f"{i + 1:>{width}} | {lines[i]}" for i in range(start, min(end, len(lines) - 1) + 1))
