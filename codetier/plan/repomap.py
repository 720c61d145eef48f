"""A map of the repository for the planner: every file, and for Python its
top-level definitions and imports (from `ast`), trimmed to a token budget.

Files the request names, or whose module or definitions it mentions, come
first and are marked relevant; past the budget the rest are listed by name,
then only counted.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import tokens

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", "dist"}
MAX_PARSE_BYTES = 400_000


@dataclass(frozen=True)
class Entry:
    path: str
    defs: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    relevant: bool = False
    error: str = ""

    def render(self, *, detail: bool = True) -> str:
        mark = " *" if self.relevant else ""
        if not detail or not (self.defs or self.imports or self.error):
            return f"{self.path}{mark}"
        lines = [f"{self.path}{mark}"]
        if self.error:
            lines.append(f"  ({self.error})")
        if self.imports:
            lines.append("  imports: " + ", ".join(self.imports))
        lines += [f"  {d}" for d in self.defs]
        return "\n".join(lines)


@dataclass(frozen=True)
class RepoMap:
    entries: tuple[Entry, ...]
    text: str

    @property
    def relevant(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.entries if e.relevant)


def list_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files; a plain walk outside git."""
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode == 0:
        names = [n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n]
        return sorted(n for n in names if (root / n).is_file())
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_file() and not any(p in SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            out.append(rel.as_posix())
    return sorted(out)


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = ast.unparse(node.args)
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {node.name}({args}){ret}"


def python_entry(path: str, source: str) -> Entry:
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return Entry(path, error=f"does not parse: line {e.lineno}")
    defs: list[str] = []
    imports: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.append(_signature(node))
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            methods = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            shown = f": {', '.join(methods)}" if methods else ""
            defs.append(f"class {node.name}({bases}){shown}" if bases else f"class {node.name}{shown}")
        elif isinstance(node, ast.Import):
            imports += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports.append("." * node.level + (node.module or ""))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defs += [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
    return Entry(path, tuple(defs), tuple(dict.fromkeys(imports)))


def _mentioned(entry: Entry, words: set[str]) -> bool:
    stem = Path(entry.path).stem
    module = entry.path.removesuffix(".py").replace("/", ".")
    if entry.path in words or module in words or (stem in words and stem != "__init__"):
        return True
    names = {
        re.split(r"[(:\s]", d.removeprefix("async ").removeprefix("def ").removeprefix("class "))[0]
        for d in entry.defs
    }
    return bool(names & words)


def build(root: Path, text: str, named: Iterable[str] = (), budget: int = 6_000) -> RepoMap:
    """The map for a request: relevant files first, trimmed to `budget` tokens."""
    named_set = set(named)
    words = set(re.findall(r"[\w./-]+", text)) | {w.strip(".") for w in re.findall(r"[\w.]+", text)}
    entries: list[Entry] = []
    for path in list_files(root):
        entry = Entry(path)
        if path.endswith((".py", ".pyi")):
            full = root / path
            try:
                if full.stat().st_size <= MAX_PARSE_BYTES:
                    entry = python_entry(path, full.read_text("utf-8", errors="replace"))
            except OSError:
                pass
        relevant = path in named_set or _mentioned(entry, words)
        entries.append(Entry(entry.path, entry.defs, entry.imports, relevant, entry.error))
    direct = {e.path for e in entries if e.relevant}
    entries = _with_importers(entries)
    entries.sort(key=lambda e: (e.path not in direct, not e.relevant, e.path))
    return RepoMap(tuple(entries), trim(entries, budget))


def module_of(path: str) -> str:
    return path.removesuffix(".pyi").removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _with_importers(entries: list[Entry]) -> list[Entry]:
    """Files that import a relevant module are relevant too (one hop): a
    cross-module change reaches its callers."""
    modules = {module_of(e.path) for e in entries if e.relevant and e.path.endswith((".py", ".pyi"))}
    if not modules:
        return entries

    def imports_one(e: Entry) -> bool:
        return any(i in modules or any(i.startswith(m + ".") for m in modules) for i in e.imports)

    return [
        dataclasses.replace(e, relevant=True) if not e.relevant and imports_one(e) else e for e in entries
    ]


def trim(entries: Sequence[Entry], budget: int) -> str:
    """Full entries while they fit, then names only, then a count of the rest."""
    out: list[str] = []
    used = 0
    detail = True
    for i, entry in enumerate(entries):
        block = entry.render(detail=detail)
        cost = tokens.estimate(block + "\n")
        if detail and used + cost > budget:
            detail = False
            block = entry.render(detail=False)
            cost = tokens.estimate(block + "\n")
        if used + cost > budget:
            out.append(f"... and {len(entries) - i} more files")
            break
        out.append(block)
        used += cost
    return "\n".join(out)
