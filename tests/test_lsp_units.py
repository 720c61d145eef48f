"""Pure pieces of the language server and its chores, table-driven."""

from __future__ import annotations

from pathlib import Path

import pytest
from codetier_lsp import documents, edits, estimate, settings
from lsp_support import apply_text_edits

from codetier import config
from codetier.chores import code_review, docstring, patch, pysource
from codetier.errors import ConfigError

SOURCE = '''import os


@decorator
def top(a):
    """Has a docstring."""
    if a:
        return 1
    return 2


class Box:
    def size(self,
             scale):
        # a comment
        return 1 * scale

    async def fetch(self):
        pass
x = 3
'''


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (0, None),
        (4, ("top", "def", 4, 8, True)),
        (7, ("top", "def", 4, 8, True)),
        (11, ("Box", "class", 11, 18, False)),
        (13, ("size", "def", 12, 15, False)),
        (15, ("size", "def", 12, 15, False)),
        (18, ("fetch", "def", 17, 18, False)),
        (19, None),
    ],
)
def test_enclosing_finds_the_def_by_indentation(line: int, expected: tuple[object, ...] | None) -> None:
    span = documents.enclosing(SOURCE.splitlines(), line)
    got = None if span is None else (span.name, span.kind, span.start, span.end, span.has_docstring)
    assert got == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc\n", "a\nb\nc\nd\n"),
        ("a\nb", "a\nb\n"),
        ("a\nb", "x\na\nb"),
        ("", "new\n"),
        ("a\nb\nc\n", "c\n"),
    ],
)
def test_line_edits_turn_old_into_new(old: str, new: str) -> None:
    assert apply_text_edits(old, edits.line_edits(old, new, len)) == new


def test_line_edits_can_keep_only_a_region() -> None:
    old, new = "a\nb\nc\nd\n", "A\nb\nc\nD\n"
    kept = edits.line_edits(old, new, len, keep=lambda i1, i2: i1 <= 3 and i2 > 3)
    assert apply_text_edits(old, kept) == "a\nb\nc\nD\n"


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (0, "$0"),
        (43, "~$0.00004"),
        (4_300, "~$0.004"),
        (12_800, "~$0.01"),
        (154_000, "~$0.15"),
        (2_500_000, "~$2.50"),
    ],
)
def test_money_in_titles(micros: int, shown: str) -> None:
    assert estimate.money(micros) == shown


def test_settings_from_config_then_initialization_options(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text('[lsp]\ntests_dir = "t"\n[fix]\nllm = true\n')
    cfg = config.load(tmp_path)
    s = settings.load(cfg, {"codetier": {"explain_in": "message", "unknownKey": 1}})
    assert s == settings.Settings(tests_dir="t", fix_with_model=True, explain_in="message", test_python="")


def test_bad_settings_name_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text('[lsp]\nexplain_in = "popup"\n')
    with pytest.raises(
        ConfigError, match=r"\.codetier\.toml: lsp\.explain_in: expected one of document, message"
    ):
        settings.load(config.load(tmp_path))
    with pytest.raises(ConfigError, match=r"initializationOptions: codetier\.fix_with_model: expected bool"):
        (tmp_path / "clean" / ".git").mkdir(parents=True)
        settings.load(config.load(tmp_path / "clean"), {"fix_with_model": "yes"})


FILES = {"m.py": "one\ntwo\nthree\nfour\nfive\n"}


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        (
            "--- a/m.py\n+++ b/m.py\n@@ -2,2 +2,2 @@\n two\n-three\n+THREE\n",
            {"m.py": "one\ntwo\nTHREE\nfour\nfive\n"},
        ),
        # the hunk says line 1 but the context is at line 3: found nearby
        (
            "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n three\n-four\n+4\n",
            {"m.py": "one\ntwo\nthree\n4\nfive\n"},
        ),
        ("--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,1 @@\n+x = 1\n", {"n.py": "x = 1\n"}),
        ("--- a/m.py\n+++ /dev/null\n@@ -1,5 +0,0 @@\n-one\n-two\n-three\n-four\n-five\n", {"m.py": None}),
    ],
)
def test_patch_applies_to_current_contents(diff: str, expected: dict[str, str | None]) -> None:
    assert patch.apply(diff, FILES.get).contents == expected


@pytest.mark.parametrize(
    ("diff", "error"),
    [
        ("--- a/m.py\n+++ b/m.py\n@@ -1,1 +1,1 @@\n-zero\n+0\n", "does not match"),
        ("--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,1 @@\n-a\n+b\n", "no such file"),
        ("no diff here", "no unified diff"),
        ("--- /dev/null\n+++ b/m.py\n@@ -0,0 +1,1 @@\n+x\n", "it exists"),
    ],
)
def test_patch_errors_say_where(diff: str, error: str) -> None:
    with pytest.raises(patch.PatchError, match=error):
        patch.apply(diff, FILES.get)


def test_extract_prefers_a_fenced_diff() -> None:
    answer = "Sure.\n```diff\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-one\n+1\n```\nDone."
    assert patch.extract(answer).startswith("--- a/m.py") and "Done" not in patch.extract(answer)


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        ('{"findings": []}', []),
        (
            '```json\n{"findings": [{"line": 3, "severity": "error", "message": "boom"}]}\n```',
            [code_review.Finding("m.py", 3, 3, "error", "boom")],
        ),
        ('{"findings": [{"line": 9, "message": "x"}]}', "outside the reviewed lines 2-4"),
        ('{"findings": [{"line": 3, "severity": "fatal", "message": "x"}]}', "severity must be one of"),
        ("looks fine to me", "not JSON"),
    ],
)
def test_review_findings_fit_the_schema(answer: str, result: object) -> None:
    parsed = code_review.parse(answer, "m.py", 2, 4)
    if isinstance(result, str):
        assert isinstance(parsed, str) and result in parsed
    else:
        assert parsed == result


@pytest.mark.parametrize(
    ("answer", "content"),
    [
        ('"""Add numbers."""', "Add numbers."),
        (
            '```python\n"""Add numbers.\n\n    Returns the sum.\n    """\n```',
            "Add numbers.\n\n    Returns the sum.",
        ),
        ('def add(a, b):\n    """Add numbers."""\n    return a + b', "Add numbers."),
        ("Add numbers.", "Add numbers."),
        ("def broken(:", None),
    ],
)
def test_docstring_from_an_answer(answer: str, content: str | None) -> None:
    assert docstring.docstring_text(answer) == content


def test_docstring_is_inserted_at_the_body_indent() -> None:
    source = "class A:\n    def f(self):\n        return 1\n"
    func = pysource.function_at(source, 2)
    assert func is not None and func.name == "f"
    edit = docstring.apply(source, func, "Say one.\n\nMore.")
    assert (
        edit.source
        == 'class A:\n    def f(self):\n        """Say one.\n\n        More.\n        """\n        return 1\n'
    )


@pytest.mark.parametrize(
    ("rel", "module"), [("pkg/mod.py", "pkg.mod"), ("src/pkg/mod.py", "pkg.mod"), ("pkg/__init__.py", "pkg")]
)
def test_module_names(rel: str, module: str) -> None:
    assert pysource.module_name(rel) == module


def test_help_names_the_tcp_option(capsys: pytest.CaptureFixture[str]) -> None:
    from codetier.cli import main

    assert main(["lsp", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--tcp" in out and "language server" in out
