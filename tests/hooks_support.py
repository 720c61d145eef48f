"""Helpers for hook tests: real repos, real `git commit`, real pre-commit.

pre-commit's `language: python` would pip-install this checkout into a fresh
virtualenv, which needs the network. So the end-to-end tests install a
config *derived from the shipped manifest*: the same ids, stages and
options, with `repo: local`, `language: unsupported` and the manifest's
`python -m ...` entry pointed at this venv's interpreter. The manifest
itself is checked with `pre-commit validate-manifest`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))


def manifest() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(MANIFEST.read_text("utf-8"))
    return hooks


def local_hooks(ids: Sequence[str]) -> list[dict[str, Any]]:
    """The manifest's hooks as `repo: local` hooks running this interpreter."""
    out = []
    for hook in manifest():
        if hook["id"] in ids:
            entry = hook["entry"]
            assert entry.startswith("python -m "), entry
            out.append(
                {**hook, "language": "unsupported", "entry": f"{sys.executable} {entry[len('python ') :]}"}
            )
    return out


def write_config(repo: Path, ids: Sequence[str]) -> Path:
    config = {"repos": [{"repo": "local", "hooks": local_hooks(ids)}]}
    path = repo / ".pre-commit-config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    return path


def run(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(args),
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_EDITOR": "true", **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def commit(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A real `git commit`; GIT_EDITOR=true accepts whatever the hooks wrote."""
    return run(repo, "git", "commit", *args, env=env, check=check)


def last_message(repo: Path) -> str:
    return run(repo, "git", "log", "-1", "--format=%B").stdout.strip()


def write(repo: Path, name: str, text: str | bytes) -> Path:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path
