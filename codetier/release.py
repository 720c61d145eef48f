"""The release section from Conventional Commits, deterministically (tool tier).

Grouping follows git-cliff's Keep a Changelog parsers, applied in order:
a description starting with add/support → Added, remove/delete → Removed,
deprecate → Deprecated, then by type: feat → Added, fix → Fixed, perf /
refactor / revert → Changed, `security` in type, scope or body → Security.
docs, style, test, build, ci and chore commits are not user-visible and are
left out, as are commits that are not conventional (git-cliff's
`filter_unconventional`) — unless they are breaking, which is always shown
and flagged `[**breaking**]`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codetier.errors import CodetierError
from codetier.keepachangelog import SECTIONS
from codetier.tools import git

CONVENTIONAL = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?: (?P<desc>.+)$")
BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE: ", re.M)
BY_WORD = (
    (re.compile(r"^(add|support)\b", re.I), "Added"),
    (re.compile(r"^(remove|delete|drop)\b", re.I), "Removed"),
    (re.compile(r"^deprecate", re.I), "Deprecated"),
)
BY_TYPE = {"feat": "Added", "fix": "Fixed", "perf": "Changed", "refactor": "Changed", "revert": "Changed"}
QUIET_TYPES = {"docs", "doc", "style", "test", "tests", "build", "ci", "chore"}


@dataclass(frozen=True)
class Entry:
    section: str | None  # None: left out
    text: str
    breaking: bool


def classify(subject: str, body: str = "") -> Entry:
    m = CONVENTIONAL.match(subject.strip())
    if not m:
        return Entry(None, subject.strip(), False)
    kind, scope, desc = m.group("type").lower(), m.group("scope"), m.group("desc").strip()
    breaking = bool(m.group("bang") or BREAKING_FOOTER.search(body))
    # git-cliff's default template: `*(scope)* [**breaking**] Description`
    text = desc[0].upper() + desc[1:]
    if breaking:
        text = f"[**breaking**] {text}"
    if scope:
        text = f"*({scope})* {text}"
    section = None
    if "security" in (kind, (scope or "").lower()) or re.search(r"\bsecurity\b", body, re.I):
        section = "Security"
    elif kind not in QUIET_TYPES:
        section = next((s for rx, s in BY_WORD if rx.match(desc)), None) or BY_TYPE.get(kind)
    if section is None and breaking:
        section = "Changed"
    return Entry(section, text, breaking)


def group(commits: Sequence[git.Commit]) -> tuple[dict[str, list[str]], int]:
    """Entries by section (oldest first), and how many commits were left out."""
    sections: dict[str, list[str]] = {}
    skipped = 0
    for c in commits:
        entry = classify(c.subject, c.body)
        if entry.section is None:
            skipped += 1
            continue
        sections.setdefault(entry.section, [])
        if entry.text not in sections[entry.section]:
            sections[entry.section].append(entry.text)
    return {s: sections[s] for s in SECTIONS if s in sections}, skipped


def merge_unreleased(
    commits: Mapping[str, Sequence[str]], unreleased: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Entries already under Unreleased come first; a commit entry saying the same is dropped."""

    def key(s: str) -> str:
        bare = re.sub(r"\*\([^)]*\)\*|\[\*\*breaking\*\*\]", "", s.lower())
        return re.sub(r"[^a-z0-9]+", " ", bare).strip()

    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for name in (*SECTIONS, *unreleased, *commits):
        for item in [*unreleased.get(name, ()), *commits.get(name, ())]:
            if key(item) not in seen:
                seen.add(key(item))
                out.setdefault(name, []).append(item)
    return out


def handler(payload: Mapping[str, Any]) -> str:
    """The tool provider's handler for changelog_release: JSON with the grouped sections."""
    if "version" not in payload or "root" not in payload:
        raise CodetierError("changelog_release needs a version: run `codetier changelog --release VERSION`")
    root = Path(payload["root"])
    since = payload.get("since") or git.last_tag(root)
    sections, skipped = group(git.commits_since(root, since))
    date = payload.get("date") or dt.date.today().isoformat()
    out = {"version": payload["version"], "date": date, "since": since, "sections": sections}
    return json.dumps({**out, "skipped": skipped})
