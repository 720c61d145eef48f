"""`codetier fix`: ruff format + `ruff check --fix` at the tool tier, then,
only with `[fix] llm = true`, what ruff cannot fix goes to the fast tier.

A model's rewrite is accepted only if it still parses and ruff, run again on
it, reports nothing; otherwise it escalates, and in the end the finding is
reported, never written half-fixed.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codetier import engine, router, tokens
from codetier.chores import format_fix
from codetier.chores.base import Request, with_failures
from codetier.chores.commit_message import route_for
from codetier.config import Config
from codetier.engine import Check, Job, Link, Route
from codetier.errors import CodetierError
from codetier.providers.base import Call, Completion
from codetier.providers.keys import model_reachable
from codetier.registry import Reader, Registry
from codetier.tools import git, ruff

TASK = "format_fix"  # the LLM step is the same chore, escalated past the tool tier
FENCE = re.compile(r"```(?:python|py)?\n(.*?)```", re.S)
SYSTEM = (
    "You fix Python lint errors that ruff reported and could not fix itself.\n"
    "Rules:\n"
    "1. Reply with the whole corrected file in one ```python fenced block, nothing else.\n"
    "2. Change only what the listed errors need; keep everything else byte for byte.\n"
    "3. Do not add `# noqa` comments."
)


@dataclass
class FixReport:
    formatted: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    llm_fixed: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return list(dict.fromkeys([*self.formatted, *self.fixed, *self.llm_fixed]))

    def lines(self) -> list[str]:
        out = [f"reformatted {p}" for p in self.formatted]
        out += [f"fixed {p}" for p in self.fixed if p not in self.formatted]
        out += [f"fixed by a model {p}" for p in self.llm_fixed]
        out += [f"left for you: {f}" for f in self.remaining]
        return out


def python_files(root: Path, paths: Sequence[str]) -> list[str]:
    """The Python files among `paths`; with none given, every tracked or new one in the repo."""
    if not paths:
        out = git.run(root, "ls-files", "-co", "--exclude-standard", "--", "*.py", "*.pyi")
        return [p for p in out.splitlines() if (root / p).is_file()]
    rel = []
    for p in paths:
        path = Path(p) if Path(p).is_absolute() else Path.cwd() / p
        if not path.exists():
            raise CodetierError(f"{p}: no such file")
        rel.append(str(path.resolve().relative_to(root.resolve())))
    return [p for p in rel if p.endswith((".py", ".pyi"))]


def lint_text(text: str, path: str, root: Path) -> list[str]:
    """What ruff reports for `text` as if it were `path` (the candidate is never written first)."""
    proc = subprocess.run(
        [ruff.binary(), "check", "--output-format", "json", "--exit-zero", "--stdin-filename", path, "-"],
        cwd=root,
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = json.loads(proc.stdout or "[]")
    return [f"{r['location']['row']}: {r['code']} {r['message']}" for r in rows]


def check_rewrite(text: str, path: str, root: Path) -> Check:
    m = FENCE.search(text)
    code = m.group(1) if m else text
    try:
        ast.parse(code, filename=path)
    except SyntaxError as e:
        return Check(False, f"the rewrite does not parse: line {e.lineno}: {e.msg}")
    left = lint_text(code, path, root)
    if left:
        return Check(False, f"ruff still reports: {'; '.join(left[:5])}")
    return Check(True, value=ruff.format_text(code, path, root))


def llm_job(root: Path, path: str, findings: Sequence[str], reg: Registry) -> Job:
    source = (root / path).read_text("utf-8")
    listing = "\n".join(f"- {f}" for f in findings)
    base = f"File {path}:\n```python\n{source}\n```\n\nruff reports:\n{listing}\n\nFix these errors."

    def build(link: Link, failures: Sequence[str]) -> Call:
        model = reg.models.get(link.model) if link.model else None
        room = model.max_output if model else 8_000
        need = min(room, tokens.estimate(source) * 2 + 1_000)
        return Call(TASK, link.model, SYSTEM, with_failures(base, failures), need)

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        return check_rewrite(c.text, path, root)

    return Job(TASK, build, check)


def run_fix(
    root: Path, cfg: Config, reg: Registry, paths: Sequence[str], *, source: str = "cli"
) -> FixReport:
    report = FixReport()
    files = python_files(root, paths)
    if not files:
        return report
    ctx = engine.Context(source=source, repo=str(root))
    req = Request(text="fix", root=root, files=tuple(root / p for p in files))
    result = engine.run(format_fix.job(req, reg), route_for(reg, TASK), reg, ctx)
    report.formatted, report.fixed = list(result.value["formatted"]), list(result.value["fixed"])
    left = ruff.findings(files, root)
    reader = Reader(cfg)
    if left and reader.boolean("fix.llm", False):
        if not model_reachable():
            report.notes.append("fix.llm is on but there is no ANTHROPIC_API_KEY: reporting what is left")
        else:
            left = _ask_models(root, reg, reader, left, ctx, report)
    report.remaining = [str(f) for f in left]
    return report


def _ask_models(
    root: Path,
    reg: Registry,
    reader: Reader,
    left: list[ruff.Finding],
    ctx: engine.Context,
    report: FixReport,
) -> list[ruff.Finding]:
    tiers = reader.strings("fix.tiers") or ("fast",)
    links = router.links_for(tiers, reg)
    route = Route(TASK, links[0].tier, links, ("fix.llm = true: what ruff left goes to a model",))
    still = []
    from codetier.plan import transaction
    from codetier.plan.patch import FileEdit

    for path in dict.fromkeys(f.path for f in left):
        mine = [f for f in left if f.path == path]
        with open(root / path, encoding="utf-8", newline="") as f:
            before = f.read()  # as it is on disk, line endings and all
        try:
            done = engine.run(
                llm_job(root, path, [f"{f.line}: {f.code} {f.message}" for f in mine], reg), route, reg, ctx
            )
            after = str(done.value)
            if "\r\n" in before:  # keep the file's line endings: a fix must not touch every line
                after = after.replace("\r\n", "\n").replace("\n", "\r\n")
            # Through the plan transaction: refused if the file changed meanwhile, and an
            # undo point (staged or not: the hook runs on staged files) for `codetier undo`.
            point = transaction.apply(
                root, {path: FileEdit(path, before, after)}, done.request_id, force=True
            )
        except CodetierError as e:
            report.notes.append(f"{path}: left as it was ({str(e).splitlines()[0]})")
            still += mine
            continue
        report.llm_fixed.append(path)
        report.notes.append(f"{path}: undo point {point.id} (`codetier undo` restores it)")
    return still
