"""The hook entry points in-process, and the plain git hooks under a real `git commit`."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from codetier_hooks import prepare_commit_msg as hook
from codetier_hooks.install import MARKER
from conftest import git
from hooks_support import commit, last_message, run, write
from stub_api import Reply, StubAPI

from codetier import cli

TEMPLATE = "\n# Please enter the commit message for your changes.\n"


@pytest.fixture
def staged(repo: Path) -> Path:
    write(repo, "README.md", "# demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "docs: start")
    write(repo, "src/parser.py", "def parse_header(line):\n    return line\n")
    git(repo, "add", ".")
    return repo


@pytest.fixture
def msg(staged: Path) -> Path:
    path = staged / ".git" / "COMMIT_EDITMSG"
    path.write_text(TEMPLATE)
    return path


@pytest.mark.parametrize("source", ["message", "template", "merge", "squash", "commit"])
def test_leaves_a_message_git_already_has(msg: Path, stub: StubAPI, source: str) -> None:
    msg.write_text("user text\n" + TEMPLATE)
    assert hook.main([str(msg), source]) == 0
    assert msg.read_text() == "user text\n" + TEMPLATE
    assert stub.calls == 0


def test_reads_the_source_from_pre_commits_environment(
    msg: Path, stub: StubAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRE_COMMIT_COMMIT_MSG_SOURCE", "message")
    assert hook.main([str(msg)]) == 0
    assert msg.read_text() == TEMPLATE
    assert stub.calls == 0


def test_fills_an_empty_message_keeping_the_comment_lines(msg: Path, stub: StubAPI) -> None:
    stub.script(Reply("feat(parser): add parse_header"))
    assert hook.main([str(msg)]) == 0
    assert msg.read_text() == "feat(parser): add parse_header\n" + TEMPLATE


def test_codetier_skip_skips(msg: Path, stub: StubAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_SKIP", "1")
    assert hook.main([str(msg)]) == 0
    assert msg.read_text() == TEMPLATE
    assert stub.calls == 0


def test_no_key_writes_the_offline_draft_and_says_why_in_one_line(
    msg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hook.main([str(msg)]) == 0
    assert msg.read_text().startswith("feat(parser): add parse_header\n\n- src/parser.py: added (+2 -0)\n")
    err = capsys.readouterr().err
    assert err == "codetier: no ANTHROPIC_API_KEY: wrote an offline draft\n"


def test_strict_makes_a_fallback_fail_the_hook(
    msg: Path, dead_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (msg.parents[1] / ".codetier.toml").write_text("[hooks]\nstrict = true\n")
    assert hook.main([str(msg)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("codetier: offline draft (")
    assert err.endswith("(hooks.strict = true: failing the commit)\n")


def test_strict_says_it_failed_the_commit_when_there_is_no_key(
    msg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (msg.parents[1] / ".codetier.toml").write_text("[hooks]\nstrict = true\n")
    assert hook.main([str(msg)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "codetier: no ANTHROPIC_API_KEY: wrote an offline draft (hooks.strict = true: failing the commit)\n"
    )


def test_a_broken_config_is_one_line_naming_the_file_and_never_blocks(
    msg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (msg.parents[1] / ".codetier.toml").write_text("[hooks\n")
    assert hook.main([str(msg)]) == 0
    assert msg.read_text() == TEMPLATE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert ".codetier.toml" in err and "left the message as it was" in err
    assert "Traceback" not in err


def test_a_bad_strict_value_names_the_key(msg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (msg.parents[1] / ".codetier.toml").write_text('[hooks]\nstrict = "yes"\n')
    assert hook.main([str(msg)]) == 0
    assert "hooks.strict: expected true or false" in capsys.readouterr().err


def test_a_bug_is_one_line_plus_a_crash_log_and_exit_0(
    msg: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("codetier.chores.commit_message.compose", boom)
    assert hook.main([str(msg)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error RuntimeError: boom" in err
    assert "RuntimeError" in (isolated / "codetier" / "crash.log").read_text()


def test_nothing_staged_leaves_the_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "MSG"
    path.write_text(TEMPLATE)
    assert hook.main([str(path)]) == 0
    assert path.read_text() == TEMPLATE
    assert "nothing staged" in capsys.readouterr().err


def test_a_message_already_in_the_file_is_kept(msg: Path, stub: StubAPI) -> None:
    msg.write_text("Written by another hook\n" + TEMPLATE)
    assert hook.main([str(msg)]) == 0
    assert msg.read_text().startswith("Written by another hook\n")
    assert stub.calls == 0


@pytest.mark.parametrize(
    ("index", "asks_daemon"),
    [
        (None, True),
        (".git/index", True),
        ("/r/.git/worktrees/w2/index", True),
        ("/r/.git/index.lock", False),  # `commit -a`: a temporary index the daemon cannot see
        ("/r/.git/next-index-2248.lock", False),  # `commit FILE`
    ],
)
def test_the_daemon_is_asked_only_about_the_real_index(
    msg: Path, monkeypatch: pytest.MonkeyPatch, index: str | None, asks_daemon: bool
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(hook, "draft_from_daemon", lambda root: asked.append(root) or "Daemon draft")
    if index is not None:
        monkeypatch.setenv("GIT_INDEX_FILE", index)
    assert hook.fast_path(str(msg)) is asks_daemon
    assert bool(asked) is asks_daemon


# --- plain git hooks -----------------------------------------------------


def install(*flags: str) -> int:
    return cli.main(["hooks", "install", *flags])


def test_install_writes_an_executable_hook_with_this_interpreter(staged: Path) -> None:
    assert install() == 0
    path = staged / ".git" / "hooks" / "prepare-commit-msg"
    text = path.read_text()
    installed_python = text.split("INSTALL_PYTHON='")[1].split("'")[0]
    assert MARKER in text
    assert installed_python == sys.executable and os.access(installed_python, os.X_OK)
    assert path.stat().st_mode & stat.S_IXUSR


def test_plain_hook_fills_the_message_of_a_real_commit(staged: Path, stub: StubAPI) -> None:
    stub.script(Reply("feat(parser): add parse_header\n\nParse headers."))
    install()
    commit(staged)
    assert last_message(staged) == "feat(parser): add parse_header\n\nParse headers."


def test_plain_hook_keeps_m_amend_and_merge_messages(staged: Path, stub: StubAPI) -> None:
    install()
    commit(staged, "-m", "x")
    assert last_message(staged) == "x"
    commit(staged, "--amend")
    assert last_message(staged) == "x"
    git(staged, "checkout", "-q", "-b", "side")
    write(staged, "side.py", "y = 2\n")
    git(staged, "add", ".")
    commit(staged, "-m", "side work")
    git(staged, "checkout", "-q", "main")
    write(staged, "main.py", "z = 3\n")
    git(staged, "add", ".")
    commit(staged, "-m", "main work")
    run(staged, "git", "merge", "--no-ff", "--no-edit", "side")
    assert last_message(staged) == "Merge branch 'side'"
    assert stub.calls == 0


def test_plain_hook_with_the_api_down_still_commits(staged: Path, dead_api: str) -> None:
    install()
    proc = commit(staged)
    assert last_message(staged).startswith("feat(parser): add parse_header")
    assert "codetier: offline draft (" in proc.stderr


def test_plain_hook_in_strict_mode_blocks_on_failure(staged: Path, dead_api: str) -> None:
    (staged / ".codetier.toml").write_text("[hooks]\nstrict = true\n")
    install()
    proc = commit(staged, check=False)
    assert proc.returncode != 0
    assert git(staged, "rev-list", "--count", "HEAD").strip() == "1"


def test_install_refuses_to_clobber_a_foreign_hook_unless_forced(
    staged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = staged / ".git" / "hooks" / "prepare-commit-msg"
    path.write_text("#!/bin/sh\necho mine\n")
    assert install() == 2
    assert "exists and is not codetier's" in capsys.readouterr().err
    assert path.read_text() == "#!/bin/sh\necho mine\n"
    assert install("--force") == 0
    assert MARKER in path.read_text()
    assert path.with_name("prepare-commit-msg.legacy").read_text() == "#!/bin/sh\necho mine\n"
    assert cli.main(["hooks", "uninstall"]) == 0
    assert path.read_text() == "#!/bin/sh\necho mine\n"


def test_install_over_its_own_hook_needs_no_force(staged: Path) -> None:
    assert install() == 0
    assert install("--fix", "--changelog") == 0
    pre = (staged / ".git" / "hooks" / "pre-commit").read_text()
    assert "for step in fix changelog; do" in pre


def test_plain_pre_commit_hook_runs_fix_on_staged_files(repo: Path) -> None:
    install("--fix")
    write(repo, "app.py", "x=[1,2,\n3]\n")
    git(repo, "add", ".")
    proc = commit(repo, "-m", "feat: app", check=False)
    assert proc.returncode != 0
    assert "reformatted app.py" in proc.stderr
    git(repo, "add", ".")
    commit(repo, "-m", "feat: app")
    assert (repo / "app.py").read_text() == "x = [1, 2, 3]\n"


def test_hooks_honour_core_hookspath(staged: Path) -> None:
    git(staged, "config", "core.hooksPath", ".githooks")
    install()
    assert (staged / ".githooks" / "prepare-commit-msg").is_file()


def test_plain_hook_does_not_block_when_codetier_is_gone(staged: Path) -> None:
    from codetier_hooks.install import install as do_install

    base = getattr(sys, "_base_executable", sys.executable)
    probe = run(staged, base, "-c", "import codetier_hooks", check=False)
    if probe.returncode == 0:
        pytest.skip("the base interpreter has codetier too")
    do_install(staged, steps=["fix"], python=base)
    proc = commit(staged, "-m", "x")
    assert proc.returncode == 0
    assert "No module named 'codetier_hooks'" in proc.stderr
    assert last_message(staged) == "x"


def test_plain_hook_honours_codetier_skip(staged: Path, stub: StubAPI) -> None:
    install()
    proc = commit(staged, env={"CODETIER_SKIP": "yes"}, check=False)
    assert proc.returncode != 0  # nothing wrote a message: git aborts on the empty message
    assert stub.calls == 0


def test_a_hung_api_costs_the_hook_timeout_per_link_then_the_offline_draft(
    msg: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    from stub_api import Hang

    (msg.parents[1] / ".codetier.toml").write_text("[hooks]\ntimeout_s = 0.3\n")
    stub.script(Hang(30), times=None)
    assert hook.main([str(msg)]) == 0
    assert msg.read_text().startswith("feat(parser): add parse_header\n")
    assert stub.calls == 2  # fast, then balanced; no SDK retries on the commit path
    assert "timed out" in capsys.readouterr().err


def test_plain_hook_writes_the_first_commit_of_a_repo(repo: Path, stub: StubAPI) -> None:
    stub.script(Reply("Add the command-line entry point"))
    install()
    write(repo, "my app/main.py", "def main():\n    pass\n")
    git(repo, "add", ".")
    commit(repo)
    assert last_message(repo) == "Add the command-line entry point"
    assert "(none: this is the first commit)" in stub.requests[0].text
