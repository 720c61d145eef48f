"""Renames apply through the plan transaction: an undo point, all or nothing,
and files with uncommitted changes refused unless forced."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git

from codetier import chores, config, engine, registry, router
from codetier.chores import rename
from codetier.cli import main
from codetier.errors import UsageError
from codetier.plan.transaction import ApplyRefused

MODELS = "def make_user(name):\n    return name\n"
USES = "from models import make_user\n\nprint(make_user('a'))\n"


@pytest.fixture
def project(repo: Path) -> Path:
    (repo / "models.py").write_text(MODELS)
    (repo / "app.py").write_text(USES)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def test_codetier_undo_undoes_a_rename(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "rename make_user to create_user"]) == 0
    assert "def create_user" in (project / "models.py").read_text()
    assert "codetier undo" in capsys.readouterr().out
    assert main(["undo"]) == 0
    assert (project / "models.py").read_text() == MODELS
    assert (project / "app.py").read_text() == USES


def test_a_file_with_uncommitted_changes_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = USES + "# my unsaved thought\n"
    (project / "app.py").write_text(edited)
    assert main(["ask", "rename make_user to create_user"]) == 1
    err = capsys.readouterr().err
    assert "uncommitted changes in app.py" in err
    assert "--force" in err
    assert (project / "app.py").read_text() == edited  # nothing written, not even models.py
    assert (project / "models.py").read_text() == MODELS
    assert main(["undo"]) == 1  # no undo point was made


def run_chore(root: Path, text: str, options: dict[str, object]) -> str:
    cfg = config.load(root)
    reg = registry.build(cfg)
    chore = chores.get("rename")
    req = chores.Request(text=text, root=root, options=options)
    result = engine.run(chore.job(req, reg), router.route(text, reg), reg, engine.Context(repo=str(root)))
    return chore.finish(req, result)


def test_force_overwrites_and_the_undo_point_keeps_the_edits(project: Path) -> None:
    edited = USES + "# my unsaved thought\n"
    (project / "app.py").write_text(edited)
    with pytest.raises(ApplyRefused):
        run_chore(project, "rename make_user to create_user", {})
    run_chore(project, "rename make_user to create_user", {"force": True})
    assert "create_user('a')" in (project / "app.py").read_text()
    assert main(["undo"]) == 0
    assert (project / "app.py").read_text() == edited


@pytest.mark.parametrize(
    "text",
    [
        "rename make_user to create_user",
        "rename the make_user function to create_user",
        "rename the function make_user to create_user",
        "Rename class `make_user` as `create_user`.",
        "please rename the make_user variable -> create_user",
    ],
)
def test_parse_accepts_the_and_a_kind_word(text: str) -> None:
    assert rename.parse(text) == ("make_user", "create_user")


def test_an_invalid_new_name_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="'123bad' is not a valid Python identifier"):
        rename.parse("rename make_user to 123bad")
    with pytest.raises(UsageError, match="'class' is not a valid Python identifier"):
        rename.parse("rename make_user to class")
    assert main(["ask", "rename make_user to 123bad"]) == 2
    assert "not a valid Python identifier" in capsys.readouterr().err


def test_ask_force_renames_over_uncommitted_edits(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app.py").write_text(USES + "# my unsaved thought\n")
    assert main(["ask", "rename make_user to create_user", "--force"]) == 0
    assert "create_user('a')" in (project / "app.py").read_text()
    assert "ignores them" not in capsys.readouterr().err
