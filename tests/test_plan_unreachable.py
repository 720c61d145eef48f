"""A plan call that never reached the model is not a failed plan: say the
model could not be reached, and print no $0.00 cost line."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_support import REQUEST, make_project, snapshot

from codetier.cli import main


def test_an_unreachable_api_says_so_and_is_not_called_a_repair(
    repo: Path, dead_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    before = snapshot(repo)
    assert main(["ask", REQUEST]) == 1
    err = capsys.readouterr().err
    assert "the model could not be reached" in err
    assert dead_api in err  # the engine's attempt lines
    assert "repair" not in err
    assert "$0.00 +" not in err and "plan $" not in err
    assert snapshot(repo) == before
