"""`codetier daemon --help` and `codetier lsp --help` stand on their own: a pip
install has no docs/ or lsp/README.md, so the help says what the command does
and how to set it up, and names the documentation rather than a bare path."""

from __future__ import annotations

import re

import pytest

from codetier.cli import main


def help_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main([*args, "--help"]) == 0
    return capsys.readouterr().out


def no_bare_paths(text: str) -> None:
    for m in re.finditer(r"\b(?:docs|lsp)/[\w.]+\.md\b", text):
        window = text[m.start() : m.end() + 40].replace("\n", " ")
        assert "in the source" in window, f"bare path {m.group(0)!r} in help"


def test_daemon_help_says_what_it_does_and_its_config(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "daemon")
    for word in ("drafts the commit message", "auto_start", "precompute", "idle_minutes", "codetier spend"):
        assert word in text
    assert "codetier documentation" in text
    no_bare_paths(text)


def test_lsp_help_says_how_to_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "lsp")
    for word in ("stdio", "--tcp", "code actions", 'command = "codetier"', 'args = ["lsp"]', "[lsp]"):
        assert word in text
    assert "codetier documentation" in text
    no_bare_paths(text)
