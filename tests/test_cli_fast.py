"""`codetier audit`'s plain forms skip click; everything else still goes through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codetier.cli import fast, main
from codetier.cli.group import cli

LINE = {
    "type": "assistant",
    "timestamp": "2026-11-20T10:00:01Z",
    "requestId": "r1",
    "sessionId": "s",
    "cwd": "/w",
    "message": {"id": "m1", "model": "claude-opus-5", "role": "assistant",
                "usage": {"input_tokens": 10, "output_tokens": 5}},
}  # fmt: skip


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    root = tmp_path / "claude" / "projects" / "-w"
    root.mkdir(parents=True)
    later = {**LINE, "timestamp": "2026-11-21T10:00:01Z", "requestId": "r2"}
    (root / "s.jsonl").write_text("".join(json.dumps(x) + "\n" for x in (LINE, later)))
    return tmp_path / "claude"


@pytest.mark.parametrize(
    "args",
    [
        ["audit"],
        ["audit", "--json", "--import", "--since", "2026-11-20", "some/dir"],
        ["audit", "--since=2026-11-20", "--", "-a-dir-with-a-dash"],
    ],
)
def test_plain_audit_arguments_take_the_fast_path(args: list[str]) -> None:
    assert fast.command(args) is not None


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "--help"],
        ["audit", "-h"],
        ["audit", "--bogus"],
        ["audit", "--since"],
        ["audit", "--since", "--json"],
        ["audit", "-"],
        ["route", "--json", "x"],
        [],
    ],
)
def test_anything_else_is_left_to_click(args: list[str]) -> None:
    assert fast.command(args) is None


def test_both_paths_give_the_same_report(transcripts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["audit", "--json", "--since", "2026-11-21", str(transcripts)]
    assert main(args) == 0
    quick = json.loads(capsys.readouterr().out)
    cli.main(args=args, prog_name="codetier", standalone_mode=False)  # the click command itself
    slow = json.loads(capsys.readouterr().out)
    assert [d["day"] for d in quick["daily"]] == ["2026-11-21"]
    assert quick["daily"] == slow["daily"] and quick["totals"] == slow["totals"]


def test_a_plain_audit_never_imports_click(transcripts: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from codetier.cli import main; code = main(['audit', '--json', sys.argv[1]]);"
        " print(code, 'click' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(transcripts)], capture_output=True, text=True)
    assert done.stderr.split() == ["0", "False"]
    assert json.loads(done.stdout)["totals"]["entries"] == 2


def test_errors_read_the_same_on_either_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["audit", "--since", "yesterday", str(tmp_path)]) == 2  # fast path: our message
    assert capsys.readouterr().err == "codetier: --since: expected a date as YYYY-MM-DD, got 'yesterday'\n"
    assert main(["audit", "--bogus"]) == 2  # click's usage error
    assert "No such option '--bogus'" in capsys.readouterr().err
    assert main(["audit", "--help"]) == 0
    assert "Audit Claude Code usage" in capsys.readouterr().out


def test_the_script_ends_with_everything_frozen_out_of_the_collector(transcripts: Path) -> None:
    code = (
        "import gc, sys; from codetier.cli import console; sys.argv[1:] = ['audit', '--json', sys.argv[1]];"
        " code = console(); print(code, gc.get_freeze_count() > 1000, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(transcripts)], capture_output=True, text=True)
    assert done.stderr.split() == ["0", "True"]
    assert json.loads(done.stdout)["totals"]["entries"] == 2
    # and the installed script is that function
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="codetier")
    assert script.value == "codetier.cli:console"
