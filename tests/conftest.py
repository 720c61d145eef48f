"""Shared fixtures. Every test runs with no real key, no real home and no
network: the autouse fixture scrubs keys, relocates all state into tmp_path
and points git at a private config. Spawned subprocesses inherit all of it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import prompt_line, usage_line, write
from stub_api import StubAPI


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("env")
    for name in list(os.environ):
        if name == "UPDATE_GOLDEN":  # regenerates golden files; never affects codetier
            continue
        if name.endswith(("_API_KEY", "_AUTH_TOKEN")) or name.startswith(("ANTHROPIC_", "CODETIER_", "GIT_")):
            monkeypatch.delenv(name)
    home = base / "home"
    home.mkdir()
    gitconfig = base / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {
        "CODETIER_HOME": str(base / "codetier"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(base / "run"),
        "PRE_COMMIT_HOME": str(base / "pre-commit"),
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "COLUMNS": "120",  # tables render the same in a terminal and in CI
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (base / "run").mkdir(mode=0o700)
    yield base


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubAPI]:
    """A Messages API stub on 127.0.0.1, with the SDK pointed at it."""
    with StubAPI() as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        yield api


@pytest.fixture
def dead_api(monkeypatch: pytest.MonkeyPatch) -> str:
    """A key and a base URL on which nothing listens: every call fails to connect."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    monkeypatch.setenv("CODETIER_ANTHROPIC__MAX_RETRIES", "0")
    return url


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh git repo (no commits yet) that is also the working directory."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config dir with a session, its subagent file and the quirks ccusage handles."""
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"  # days are local dates, as in ccusage: pin the zone
    time.tzset()
    root = tmp_path / "claude"
    project = root / "projects" / "-work-app"
    opus = usage_line(
        "m1", "r1", "claude-opus-5", "2026-11-20T10:00:01Z", 1_000, 200, cw=4_000, cw_1h=1_000, cr=50_000
    )
    write(
        project / "sess-1.jsonl",
        [
            prompt_line("reformat this file with ruff", "2026-11-20T10:00:00Z", "u1"),
            opus,
            opus,  # the same usage repeated on the next content-block line
            {
                "type": "user",
                "timestamp": "2026-11-20T10:00:02Z",
                "message": {"role": "user", "content": [{"type": "tool_result", "content": "done"}]},
            },
            usage_line("m2", "r2", "claude-opus-5", "2026-11-20T10:00:03Z", 10, None),  # null field: skipped
            usage_line("m3", "r3", "<synthetic>", "2026-11-20T10:00:04Z", 10, 10),  # not usage
            '{"type":"assistant","message":{"usage":{"input_tokens":\n',  # malformed
            "not json at all\n",
            prompt_line("design the architecture of the plugin system", "2026-11-21T09:00:00Z", "u2"),
            usage_line("m4", "r4", "claude-sonnet-5", "2026-11-21T09:00:05Z", 3_000, 1_000, cw=2_000),
            usage_line("m5", None, "claude-haiku-4-5", "2026-11-21T09:00:06Z", 100, 10),
        ],
    )
    # A subagent file replays m1 as a sidechain (one copy kept) and adds its own call.
    write(
        project / "sess-1" / "subagents" / "agent-a.jsonl",
        [
            prompt_line("write unit tests for the parser", "2026-11-21T09:01:00Z", "u3"),
            usage_line(
                "m1",
                "r1",
                "claude-opus-5",
                "2026-11-20T10:00:01Z",
                1_000,
                200,
                cw=4_000,
                cw_1h=1_000,
                cr=50_000,
                side=True,
            ),
            usage_line("m6", "r6", "claude-opus-5", "2026-11-21T09:01:05Z", 500, 500, side=True),
        ],
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    yield root
    if old_tz is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old_tz
    time.tzset()
