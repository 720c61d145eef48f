"""ruff, run as the binary the ruff package ships."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from codetier.errors import CodetierError


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


def binary() -> str:
    from ruff.__main__ import find_ruff_bin

    return str(find_ruff_bin())


def _run(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary(), *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )


def format_files(paths: list[str], cwd: Path) -> list[str]:
    """Format in place; returns the paths ruff reformatted."""
    if not paths:
        return []
    before = {p: _read(cwd / p) for p in paths}
    _run(["format", "--quiet", *paths], cwd)
    return [p for p in paths if _read(cwd / p) != before[p]]


def fix_files(paths: list[str], cwd: Path) -> list[str]:
    """`ruff check --fix` in place; returns the paths it changed."""
    if not paths:
        return []
    before = {p: _read(cwd / p) for p in paths}
    _run(["check", "--fix", "--quiet", "--exit-zero", *paths], cwd)
    return [p for p in paths if _read(cwd / p) != before[p]]


def findings(paths: list[str], cwd: Path) -> list[Finding]:
    """What `ruff check` still reports."""
    if not paths:
        return []
    proc = _run(["check", "--output-format", "json", "--exit-zero", *paths], cwd)
    return _parse(proc.stdout, cwd)


def findings_text(text: str, filename: str, cwd: Path) -> list[Finding]:
    """What `ruff check` reports for a buffer (the editor's unsaved text)."""
    args = ["check", "--output-format", "json", "--exit-zero", "--stdin-filename", filename, "-"]
    return _parse(_run(args, cwd, stdin=text).stdout, cwd, filename)


def fix_text(text: str, filename: str, cwd: Path) -> str:
    """`ruff check --fix` on a buffer through stdin; the fixed text."""
    args = ["check", "--fix", "--exit-zero", "--quiet", "--stdin-filename", filename, "-"]
    proc = _run(args, cwd, stdin=text)
    if proc.returncode != 0:
        raise CodetierError(f"ruff could not check {filename}: {proc.stderr.strip()[:200]}")
    return proc.stdout


def _parse(stdout: str, cwd: Path, filename: str | None = None) -> list[Finding]:
    """ruff's JSON output as findings, paths relative to `cwd` (or `filename` for a buffer)."""
    try:
        rows = json.loads(stdout or "[]")
    except json.JSONDecodeError:
        return []
    out = []
    for row in rows:
        loc = row.get("location") or {}
        name = Path(row.get("filename", "?"))
        rel = str(name.relative_to(cwd)) if name.is_absolute() and name.is_relative_to(cwd) else str(name)
        code = row.get("code") or ""
        out.append(
            Finding(filename or rel, loc.get("row", 0), loc.get("column", 0), code, row.get("message", ""))
        )
    return out


def format_text(text: str, filename: str, cwd: Path) -> str:
    """Format a buffer (the editor's unsaved text) through stdin."""
    proc = _run(["format", "--stdin-filename", filename, "-"], cwd, stdin=text)
    return proc.stdout if proc.returncode == 0 else text


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
