"""Read and write CHANGELOG.md in the Keep a Changelog 1.1.0 format.

Line-based edits only, so everything the user wrote around our entries
(links, prose, odd spacing) stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
HEADER = (
    "# Changelog\n\n"
    "All notable changes to this project will be documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n"
    "and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).\n\n"
    "## [Unreleased]\n"
)
RELEASE = re.compile(r"^## ")
UNRELEASED = re.compile(r"^## \[?unreleased\]?\s*$", re.I)
SECTION = re.compile(r"^### (\w+)")


def _unreleased(lines: list[str]) -> tuple[int, int]:
    """(heading index, end index) of the Unreleased block, adding the heading when missing."""
    for i, line in enumerate(lines):
        if UNRELEASED.match(line):
            end = next((j for j in range(i + 1, len(lines)) if RELEASE.match(lines[j])), len(lines))
            return i, end
    first = next((j for j, line in enumerate(lines) if RELEASE.match(line)), len(lines))
    block = ["## [Unreleased]", ""]
    if first > 0 and lines[first - 1].strip():
        block.insert(0, "")
    lines[first:first] = block
    return _unreleased(lines)


def _trim_blank_end(lines: list[str], start: int, end: int) -> int:
    while end > start and not lines[end - 1].strip():
        end -= 1
    return end


def add_entry(text: str, section: str, entry: str) -> str:
    """Add `- entry` under `### section` of Unreleased, creating either when missing."""
    if section not in SECTIONS:
        raise ValueError(f"unknown changelog section {section!r}; expected one of {', '.join(SECTIONS)}")
    lines = (text or HEADER).splitlines()
    head, end = _unreleased(lines)
    bullet = f"- {entry.strip()}"
    found = {m.group(1): i for i in range(head + 1, end) if (m := SECTION.match(lines[i]))}
    if section in found:
        start = found[section]
        stop = next((i for i in sorted(found.values()) if i > start), end)
        at = _trim_blank_end(lines, start + 1, stop)
        lines.insert(at, bullet)
    else:
        rank = SECTIONS.index(section)
        later = [i for name, i in found.items() if name in SECTIONS and SECTIONS.index(name) > rank]
        at = min(later) if later else _trim_blank_end(lines, head + 1, end)
        block = [f"### {section}", "", bullet, ""]
        if lines[at - 1].strip():
            block.insert(0, "")
        lines[at:at] = block
    return _tidy(lines)


def _tidy(lines: list[str]) -> str:
    """No runs of blank lines, exactly one newline at the end."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip("\n") + "\n"


def unreleased_entries(text: str) -> dict[str, list[str]]:
    """The Unreleased bullets by section."""
    lines = text.splitlines()
    head, end = _unreleased(lines)
    out: dict[str, list[str]] = {}
    current = None
    for line in lines[head + 1 : end]:
        m = SECTION.match(line)
        if m:
            current = m.group(1)
        elif current and line.startswith(("- ", "* ")):
            out.setdefault(current, []).append(line[2:].strip())
    return out


def render_release(version: str, date: str, sections: Mapping[str, Sequence[str]]) -> str:
    parts = [f"## [{version}] - {date}"]
    for name in (*SECTIONS, *(s for s in sections if s not in SECTIONS)):
        items = sections.get(name) or []
        if items:
            parts.append(f"### {name}\n\n" + "\n".join(f"- {item}" for item in items))
    return "\n\n".join(parts) + "\n"


def add_release(text: str, version: str, date: str, sections: Mapping[str, Sequence[str]]) -> str:
    """Empty Unreleased and put the release right below it."""
    lines = (text or HEADER).splitlines()
    if any(re.match(rf"^## \[?{re.escape(version)}\]?(\s|$)", line) for line in lines):
        raise ValueError(f"version {version} is already in the changelog")
    head, end = _unreleased(lines)
    block = ["", *render_release(version, date, sections).splitlines(), ""]
    lines[head + 1 : end] = block
    return _tidy(lines)
