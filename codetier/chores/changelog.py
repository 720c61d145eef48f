"""Changelog chores: one entry for the staged change (fast tier, offline
draft last) and the release section from Conventional Commits (tool tier)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import drafts, engine, keepachangelog, release
from codetier.chores.base import Chore, Request, builder
from codetier.chores.commit_message import (
    PREAMBLE,
    CommitContext,
    degraded_note,
    gather,
    hides_secrets,
    named_files,
    route_for,
    touches,
)
from codetier.config import Config
from codetier.diffs import render
from codetier.engine import Check, Job, Link, Result
from codetier.errors import UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import Reader, Registry

ENTRY = "changelog_entry"
RELEASE = "changelog_release"
MAX_ENTRY = 200
ENTRY_LINE = re.compile(rf"^(?P<section>{'|'.join(keepachangelog.SECTIONS)}): (?P<text>\S.*)$")
DIFF_TOKENS = 4_000

SYSTEM = {
    "standard": (
        "You write one Keep a Changelog entry for a staged change, for the project's users."
        " Reply with exactly one line: `Section: entry`."
    ),
    "explicit": (
        "You write one Keep a Changelog entry for a staged change.\n"
        "Rules:\n"
        f"1. Reply with exactly one line in the form `Section: entry`, Section one of"
        f" {', '.join(keepachangelog.SECTIONS)}.\n"
        "2. The entry says what changed for the project's users, in one sentence, past tense or"
        " imperative, ending with a period.\n"
        f"3. At most {MAX_ENTRY} characters. Name only files that appear in the diff.\n"
        "4. No preamble, no quotes, no code fences, no bullet."
    ),
}


def changelog_path(cfg: Config) -> str:
    return str(Reader(cfg).string("hooks.changelog", default="CHANGELOG.md"))


def check_entry(text: str, ctx: CommitContext) -> Check:
    line = text.strip()
    if not line:
        return Check(False, "the entry was empty")
    if "\n" in line:
        return Check(False, "the answer had more than one line")
    if "```" in line or PREAMBLE.match(line):
        return Check(False, "the answer had a preamble or a code fence")
    m = ENTRY_LINE.match(line.lstrip("-* "))
    if not m:
        names = ", ".join(keepachangelog.SECTIONS)
        return Check(False, f"the answer was not `Section: entry` (sections: {names})")
    if len(m.group("text")) > MAX_ENTRY:
        return Check(False, f"the entry was longer than {MAX_ENTRY} characters")
    strangers = [w for w in named_files(line) if not touches(w, ctx.touched)]
    if strangers:
        return Check(False, f"the entry named {strangers[0]}, which the diff does not touch")
    return Check(True, value=(m.group("section"), m.group("text").strip()))


def entry_job(ctx: CommitContext, reg: Registry, existing: str) -> Job:
    spec = reg.task(ENTRY)
    shown = render(ctx.files, DIFF_TOKENS)
    base = "\n\n".join(
        [
            f"Entries already under Unreleased (do not repeat them):\n{existing or '(none)'}",
            f"Diff:\n{shown.text}",
            "Write the changelog entry for this staged change.",
        ]
    )
    payload = drafts.payload_of(ctx.files, ctx.style)

    build = builder(spec, SYSTEM, base, payload)

    def check(c: Completion) -> Check:
        return check_entry(c.text, ctx)

    return Job(ENTRY, build, check, redacted=hides_secrets(ctx.files))


def read_changelog(path: Path) -> tuple[str, str]:
    """The changelog's text with "\n" line ends, and the line end it uses ("" when there is none)."""
    if not path.exists():
        return "", "\n"
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path.name}: not UTF-8 (byte {e.start}); left it as it was") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    return text.replace("\r\n", "\n"), newline


def write_changelog(path: Path, text: str, newline: str) -> None:
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))


@dataclass(frozen=True)
class Written:
    path: Path
    section: str
    entry: str
    note: str  # why the entry is the offline draft; "" when a model wrote it


def write_entry(root: Path, cfg: Config, reg: Registry, *, source: str = "cli") -> Written | None:
    """Add the staged change's entry under Unreleased; None when it is not user-visible."""
    ctx = gather(root)
    if not drafts.user_visible(ctx.files):
        return None
    path = root / changelog_path(cfg)
    text, newline = read_changelog(path)
    existing = keepachangelog.unreleased_entries(text) if text else {}
    listing = "\n".join(f"{s}: {e}" for s, items in existing.items() for e in items)
    ectx = engine.Context(source=source, repo=str(root))
    result = engine.run(entry_job(ctx, reg, listing), route_for(reg, ENTRY), reg, ectx)
    section, entry = result.value
    write_changelog(path, keepachangelog.add_entry(text, section, entry), newline)
    return Written(path, section, entry, degraded_note(result))


# --- release ---------------------------------------------------------------


def release_job(root: Path, version: str, date: str | None) -> Job:
    def build(link: Link, failures: Sequence[str]) -> Call:
        payload = {"root": str(root), "version": version, "date": date}
        prompt = f"Group the commits since the last tag for {version}"
        return Call(RELEASE, None, "", prompt, 0, payload=payload)

    def check(c: Completion) -> Check:
        try:
            return Check(True, value=json.loads(c.text))
        except json.JSONDecodeError:
            return Check(False, "the release grouping was not JSON")

    return Job(RELEASE, build, check)


@dataclass(frozen=True)
class Released:
    path: Path
    section: str
    skipped: int
    since: str | None


def valid_date(date: str) -> str:
    """A real calendar date written YYYY-MM-DD, or a UsageError saying so."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date: expected YYYY-MM-DD, got {date!r}")
    try:
        dt.date.fromisoformat(date)
    except ValueError as e:
        raise UsageError(f"--date: {date!r} is not a valid date ({e})") from None
    return date


def write_release(
    root: Path, cfg: Config, reg: Registry, version: str, *, date: str | None = None, dry_run: bool = False
) -> Released:
    if not re.fullmatch(r"v?\d+(\.\d+)*([\-+.][\w.\-+]+)?", version):
        raise UsageError(f"--release: expected a version such as 1.2.0, got {version!r}")
    if date is not None:
        valid_date(date)
    version = version.removeprefix("v")
    path = root / changelog_path(cfg)
    text, newline = read_changelog(path)
    ectx = engine.Context(source="cli", repo=str(root))
    result = engine.run(release_job(root, version, date), route_for(reg, RELEASE), reg, ectx)
    data = result.value
    unreleased = keepachangelog.unreleased_entries(text) if text else {}
    sections = release.merge_unreleased(data["sections"], unreleased)
    try:
        new = keepachangelog.add_release(text, version, data["date"], sections)
    except ValueError as e:
        raise UsageError(f"{path.name}: {e}") from None
    if not dry_run:
        write_changelog(path, new, newline)
    section = keepachangelog.render_release(version, data["date"], sections)
    return Released(path, section, int(data["skipped"]), data["since"])


def _entry_job(req: Request, reg: Registry) -> Job:
    return entry_job(gather(req.root), reg, "")


def _finish(req: Request, result: Result) -> str:
    section, entry = result.value
    return f"{section}: {entry}"


ENTRY_CHORE = Chore(_entry_job, _finish)
