"""The commit-message chore: the staged diff, the branch and the last ten
subjects in; a checked message out. Hook and CLI share `compose`.

The chain (registry: fast → balanced → offline) ends in the deterministic
draft of `codetier.drafts`, so a message is always there to write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import diffs, drafts, engine, router
from codetier.chores.base import Chore, Request, builder
from codetier.config import Config
from codetier.diffs import FileDiff
from codetier.engine import Check, Job, Result, Route
from codetier.errors import CodetierError
from codetier.providers import keys
from codetier.providers.base import Completion
from codetier.registry import Reader, Registry
from codetier.tools import git

TASK = "commit_message"
MAX_SUBJECT = 72
DEFAULT_DIFF_TOKENS = 8_000
TYPES = ("feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert")
CONVENTIONAL = re.compile(r"^(?P<type>[a-z]+)(?:\((?P<scope>[^()\n]+)\))?(?P<bang>!)?: (?P<desc>\S.*)$")
GITMOJI = re.compile(r"^(?::[a-z0-9_+\-]+:|[\u2600-\u27bf\U0001f300-\U0001faff])")
PREAMBLE = re.compile(
    r"^(?:here(?:'s| is| are)\b|sure\b|certainly\b|okay\b|ok,|below is\b|i(?:'ve| have)\b"
    r"|(?:suggested |proposed )?commit message\s*:|subject\s*:|title\s*:)",
    re.I,
)
# Words that look like file names: a stem, a dot, and an extension starting with a letter.
FILE_WORD = re.compile(r"(?<![\w/.\-])((?:[\w\-]+/)*[\w\-]+\.[A-Za-z][A-Za-z0-9]{0,7})(?![\w/])")
QUOTES = "\"'`\u201c\u201d\u2018\u2019"
# One string is easier to scan than a 60-line list.
KNOWN_EXTENSIONS = frozenset(
    (  # noqa: SIM905
        "py pyi md rst txt toml yaml yml json cfg ini lock js jsx ts tsx mjs cjs css scss html go rs c h"
        " cc cpp hpp java kt rb php sh bash zsh sql proto swift cs fs ex exs lua r vue svelte xml csv png"
        " jpg jpeg gif svg pdf whl env gradle dart scala pl tf hcl"
    ).split()
)


class NothingStaged(CodetierError):
    def __init__(self) -> None:
        super().__init__("nothing staged: `git add` the change first")


@dataclass(frozen=True)
class CommitContext:
    root: Path
    files: tuple[FileDiff, ...]
    branch: str | None
    subjects: tuple[str, ...]
    style: str  # conventional | gitmoji | plain

    @property
    def touched(self) -> set[str]:
        return diffs.touched(self.files)


def detect_style(subjects: Sequence[str]) -> str:
    """Conventional Commits or gitmoji when at least half the recent subjects use it."""
    if not subjects:
        return "plain"
    half = len(subjects) / 2
    if sum(bool(CONVENTIONAL.match(s)) for s in subjects) >= half:
        return "conventional"
    if sum(bool(GITMOJI.match(s)) for s in subjects) >= half:
        return "gitmoji"
    return "plain"


def gather(root: Path, diff: str | None = None) -> CommitContext:
    """Everything the prompt needs, from git (`diff` given: the daemon already has it)."""
    files = diffs.parse(git.staged_diff(root) if diff is None else diff)
    if not files:
        raise NothingStaged()
    subjects = tuple(git.recent_subjects(root, 10))
    return CommitContext(root, tuple(files), git.branch(root), subjects, detect_style(subjects))


SYSTEM = {
    "standard": (
        "You write git commit messages for staged changes. Reply with the commit message only:"
        " a subject line of at most 72 characters in the imperative mood, then, only if it helps,"
        " a blank line and a short body saying what changed and why."
    ),
    # Small models follow a spelled-out shape more reliably.
    "explicit": (
        "You write git commit messages for staged changes.\n"
        "Rules:\n"
        "1. The first line is the subject: imperative mood, at most 72 characters, no period at the end.\n"
        "2. A body is optional. If you write one, leave one blank line after the subject and wrap it"
        " at 72 characters. Say what changed and why, not how.\n"
        "3. Name only files that appear in the diff.\n"
        "4. Reply with the message itself: no preamble such as 'Here is', no label such as"
        " 'Commit message:', no quotes around it, no code fences, no Markdown headings."
    ),
}
STYLE_RULES = {
    "conventional": (
        "This repository uses Conventional Commits: the subject must be `type(scope): description`"
        f" (scope optional; `!` before the colon for a breaking change) with type one of {', '.join(TYPES)}."
    ),
    "gitmoji": "This repository uses gitmoji: start the subject with the emoji that fits the change.",
    "plain": "Follow the style of the recent subjects.",
}


def prompt(ctx: CommitContext, budget_tokens: int) -> str:
    shown = diffs.render(ctx.files, budget_tokens)
    added = sum(f.added for f in ctx.files)
    removed = sum(f.removed for f in ctx.files)
    recent = "\n".join(f"- {s}" for s in ctx.subjects) or "(none: this is the first commit)"
    parts = [
        STYLE_RULES[ctx.style],
        f"Branch: {ctx.branch or '(detached HEAD)'}",
        f"Recent subjects, newest first:\n{recent}",
        f"Staged change: {len(ctx.files)} file(s), +{added} -{removed} lines.",
    ]
    if shown.note:
        parts.append(f"Note: the diff was {shown.note}.")
    parts += [f"Diff:\n{shown.text}", "Write the commit message for this staged change."]
    return "\n\n".join(parts)


def named_files(text: str) -> list[str]:
    return [w for w in FILE_WORD.findall(text) if w.rsplit(".", 1)[1].lower() in KNOWN_EXTENSIONS]


def touches(name: str, touched: set[str]) -> bool:
    """`name` is a touched path, or its tail after a character FILE_WORD stops at ("/", a space, "+")."""
    return any(p == name or name.endswith("/" + p) or _tail(p, name) for p in touched)


def _tail(path: str, name: str) -> bool:
    if not path.endswith(name) or len(path) == len(name):
        return False
    before = path[-len(name) - 1]
    return not (before.isalnum() or before in "_.-")


def check_message(text: str, ctx: CommitContext) -> Check:
    """A message git can take as it is, in the repo's style, about this diff only."""
    msg = "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")
    lines = msg.splitlines()
    if not msg.strip():
        return Check(False, "the message was empty")
    if "```" in msg:
        return Check(False, "the message contained a code fence")
    if len(msg) > 1 and msg[0] in QUOTES and msg[-1] in QUOTES:
        return Check(False, "the message was wrapped in quotes")
    subject = lines[0].strip()
    if PREAMBLE.match(subject):
        return Check(False, f"the message began with a preamble ({subject[:30]!r})")
    if subject.startswith("#"):
        return Check(False, "the subject was a heading or a comment")
    if len(subject) > MAX_SUBJECT:
        return Check(False, f"the subject was {len(subject)} characters; the limit is {MAX_SUBJECT}")
    if len(lines) > 1 and lines[1].strip():
        return Check(False, "there was no blank line between the subject and the body")
    if ctx.style == "conventional":
        m = CONVENTIONAL.match(subject)
        if not m or m.group("type") not in TYPES:
            return Check(False, "the subject was not in the Conventional Commits format `type(scope): ...`")
    touched = ctx.touched
    strangers = [w for w in named_files(msg) if not touches(w, touched)]
    if strangers:
        return Check(False, f"the message named {strangers[0]}, which the diff does not touch")
    return Check(True, value=msg)


def hides_secrets(files: Sequence[FileDiff]) -> bool:
    """A `.env` file's values were kept out of the prompt: the ledger notes a redaction."""
    return any(f.kind == "env" for f in files)


def route_for(reg: Registry, task: str = TASK) -> Route:
    """The task's chain; without a key only the deterministic links stay."""
    spec = reg.task(task)
    links = router.links_for(spec.chain, reg)
    reasons = [f"{task}: chain {' → '.join(spec.chain)} from the registry"]
    if not keys.model_reachable():
        kept = tuple(link for link in links if link.model is None)
        if kept:
            links = kept
            reasons.append("no ANTHROPIC_API_KEY: offline draft only")
    return Route(task, links[0].tier, links, tuple(reasons))


def job_for(ctx: CommitContext, reg: Registry, budget_tokens: int) -> Job:
    spec = reg.task(TASK)
    base = prompt(ctx, budget_tokens)
    payload = drafts.payload_of(ctx.files, ctx.style)

    build = builder(spec, SYSTEM, base, payload)

    def check(c: Completion) -> Check:
        if c.stop_reason == "max_tokens":
            return Check(False, "the answer was cut off at max_tokens")
        return check_message(c.text, ctx)

    return Job(TASK, build, check, redacted=hides_secrets(ctx.files))


def diff_budget(cfg: Config) -> int:
    return int(Reader(cfg).number("hooks.diff_tokens", default=DEFAULT_DIFF_TOKENS, integer=True) or 0)


@dataclass(frozen=True)
class Composed:
    message: str
    result: Result
    note: str  # why the message is a fallback; "" when a model wrote it

    @property
    def offline(self) -> bool:
        return self.result.link.provider == "offline"


def degraded_note(result: Result) -> str:
    """One line on why the deterministic draft was used, or ""."""
    if result.link.model is not None:
        return ""
    failed = [a for a in result.attempts if a.outcome != "ok"]
    if not failed:
        return "no ANTHROPIC_API_KEY: wrote an offline draft"
    first = failed[-1]
    return f"offline draft ({first.link.tier}: {first.outcome}: {first.reason})"[:240]


def compose(
    root: Path, cfg: Config, reg: Registry, *, source: str = "cli", diff: str | None = None
) -> Composed:
    """The message for the staged change: the same path for the hook, the CLI and the daemon."""
    ctx = gather(root, diff)
    ectx = engine.Context(source=source, repo=str(root))
    result = engine.run(job_for(ctx, reg, diff_budget(cfg)), route_for(reg), reg, ectx)
    return Composed(str(result.value), result, degraded_note(result))


def _job(req: Request, reg: Registry) -> Job:
    ctx = gather(req.root)
    budget = int(req.options.get("diff_tokens", DEFAULT_DIFF_TOKENS))
    return job_for(ctx, reg, budget)


CHORE = Chore(_job, lambda req, result: str(result.value))
