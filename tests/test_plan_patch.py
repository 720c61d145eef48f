"""Diffs in memory: extraction from a reply, application, rendering for git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from plan_support import udiff

from codetier.plan import patch
from codetier.plan.execute import check_diff
from codetier.plan.patch import FileEdit, PatchError

BEFORE = "a\nb\nc\nd\ne\nf\ng\n"


def test_extracts_the_fenced_diff_and_the_summary() -> None:
    diff = udiff("x.py", BEFORE, BEFORE.replace("b\n", "B\n"))
    reply = f"Renamed b.\n\n```diff\n{diff}```\nDone."
    assert patch.extract_diff(reply) == diff
    assert patch.summary_of(reply) == "Renamed b."


def test_bare_diff_is_accepted() -> None:
    diff = udiff("x.py", BEFORE, BEFORE.replace("b\n", "B\n"))
    assert patch.extract_diff(diff) == diff


def test_reply_without_a_diff_fails() -> None:
    with pytest.raises(PatchError, match="no unified diff"):
        patch.extract_diff("I changed it.")


def test_applies_with_shifted_line_numbers() -> None:
    diff = udiff("x.py", BEFORE, BEFORE.replace("f\n", "F\n")).replace("@@ -3,5 +3,5 @@", "@@ -1,5 +1,5 @@")
    [edit] = patch.apply(diff, {"x.py": BEFORE})
    assert edit.after == BEFORE.replace("f\n", "F\n")


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ({"x.py": "something else\n"}, "x.py: hunk 1 .* does not match the current content"),
        ({"y.py": BEFORE}, "x.py: not one of this subtask's files"),
        ({"x.py": None}, "x.py: the diff edits it, but it does not exist"),
    ],
)
def test_refuses_diffs_that_do_not_fit(contents: dict[str, str | None], message: str) -> None:
    diff = udiff("x.py", BEFORE, BEFORE.replace("b\n", "B\n"))
    with pytest.raises(PatchError, match=message):
        patch.apply(diff, contents)


def test_creation_and_no_newline_at_end_of_file() -> None:
    diff = (
        "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\n"
        "--- a/x.py\n+++ b/x.py\n@@ -6,2 +6,2 @@\n f\n-g\n+G\n\\ No newline at end of file\n"
    )
    edits = {e.path: e for e in patch.apply(diff, {"n.txt": None, "x.py": BEFORE})}
    assert edits["n.txt"].after == "one\ntwo"
    assert edits["x.py"].after == BEFORE.replace("g\n", "G")


def test_unparseable_diff() -> None:
    with pytest.raises(PatchError, match="does not parse"):
        patch.apply("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n", {"x.py": BEFORE})


def test_python_must_still_parse() -> None:
    src = "def f():\n    return 1\n"
    diff = udiff("m.py", src, "def f(:\n    return 1\n")
    with pytest.raises(PatchError, match=r"m\.py would not parse: line 1"):
        check_diff(diff, {"m.py": src})


def test_render_is_accepted_by_git_apply(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(BEFORE)
    (tmp_path / "gone.txt").write_text("bye\n")
    (tmp_path / "tail.txt").write_text("no newline")
    edits = {
        "x.py": FileEdit("x.py", BEFORE, BEFORE.replace("c\n", "C\n")),
        "new/n.txt": FileEdit("new/n.txt", None, "hello"),
        "gone.txt": FileEdit("gone.txt", "bye\n", None),
        "tail.txt": FileEdit("tail.txt", "no newline", "no newline\n"),
    }
    diff = patch.render(edits)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    proc = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=diff, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x.py").read_text() == BEFORE.replace("c\n", "C\n")
    assert (tmp_path / "new/n.txt").read_bytes() == b"hello"
    assert not (tmp_path / "gone.txt").exists()
    assert (tmp_path / "tail.txt").read_bytes() == b"no newline\n"


def test_crlf_file_stays_crlf_and_form_feed_is_not_a_line_break() -> None:
    before = "a\r\nb\x0cstill b\r\nc\r\n"
    diff = "--- a/w.py\n+++ b/w.py\n@@ -1,3 +1,3 @@\n a\n-b\x0cstill b\n+B\n c\n"
    [edit] = patch.apply(diff, {"w.py": before})
    assert edit.after == "a\r\nB\r\nc\r\n"


def test_markdown_fence_inside_the_diff_does_not_end_the_block() -> None:
    before = "# Title\n"
    after = "# Title\n\n```python\nx = 1\n```\n"
    diff = udiff("README.md", before, after)
    reply = f"Added an example.\n\n```diff\n{diff}```\n"
    assert patch.extract_diff(reply) == diff
    [edit] = patch.apply(patch.extract_diff(reply), {"README.md": before})
    assert edit.after == after
