"""Shared fixtures. Every test runs with no real key, no real home and no
network: the autouse fixture scrubs keys, relocates all state into tmp_path
and points git at a private config. Spawned subprocesses inherit all of it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
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
