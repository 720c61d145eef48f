"""A small multi-module project in a real git repo, and helpers that script
the stub with a plan and per-subtask diffs (written as a model would)."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Any

from conftest import git
from stub_api import Reply, StubAPI

OPUS, SONNET, HAIKU = "claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"
REQUEST = "refactor the storage layer across modules: rename save/load to put_item/get_item"

STORAGE = '''"""Key-value storage."""


def save(db, key, value):
    db[key] = value


def load(db, key):
    return db[key]
'''
SERVICE = '''"""The service layer, on top of storage."""

from shop.storage import load, save


def remember(db, key, value):
    save(db, key, value)


def recall(db, key):
    return load(db, key)
'''
# No final newline, on purpose: undo must restore exact bytes.
REPORT = '"""Reports."""\n\nfrom shop.service import recall\n\n\ndef line(db, key):\n    return f"{key}={recall(db, key)}"'
TESTS = """from shop.report import line
from shop.service import recall, remember


def test_roundtrip():
    db = {}
    remember(db, "a", 1)
    assert recall(db, "a") == 1
    assert line(db, "a") == "a=1"
"""

NEW_STORAGE = STORAGE.replace("def save", "def put_item").replace("def load", "def get_item")
NEW_SERVICE = (
    SERVICE.replace("import load, save", "import get_item, put_item")
    .replace("    save(", "    put_item(")
    .replace("return load(", "return get_item(")
)
NOTES = "# Storage\n\n`put_item` and `get_item` replace `save` and `load`.\n"


def make_project(root: Path, *, verify: bool = True) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/storage.py": STORAGE,
        "shop/service.py": SERVICE,
        "shop/report.py": REPORT,
        "tests/test_shop.py": TESTS,
    }
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, "utf-8")
    if verify:
        cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
        (root / ".codetier.toml").write_text(f"[plan]\nverify_command = {json.dumps(cmd)}\n", "utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")


def udiff(path: str, before: str | None, after: str) -> str:
    """A unified diff as a model would write it."""
    a = before.splitlines(keepends=True) if before is not None else []
    b = after.splitlines(keepends=True)
    src = f"a/{path}" if before is not None else "/dev/null"
    return "".join(difflib.unified_diff(a, b, src, f"b/{path}"))


def answer(summary: str, diff: str) -> str:
    return f"{summary}\n\n```diff\n{diff}```\n"


def subtask(sid: str, files: list[Any], deps: list[str], tier: str = "fast") -> dict[str, Any]:
    return {
        "id": sid,
        "instruction": f"do the {sid} part",
        "files": files,
        "depends_on": deps,
        "task": "implement",
        "tier": tier,
        "expected": "tests pass",
    }


def plan_json(*subtasks: dict[str, Any]) -> str:
    return json.dumps({"goal": "rename the storage API", "subtasks": list(subtasks), "risks": ["callers"]})


HAPPY_PLAN = plan_json(
    subtask("storage", ["shop/storage.py"], []),
    subtask("notes", [{"path": "docs/storage.md", "new": True}], []),
    subtask("service", ["shop/service.py"], ["storage"], tier="balanced"),
)


def marker(sid: str) -> str:
    """The text that identifies a subtask's prompt."""
    return f"executing subtask {sid!r}"


def script_plan(stub: StubAPI, plan: str, times: int | None = 1) -> None:
    stub.script(
        Reply(plan, input_tokens=3000, output_tokens=600), model=OPUS, match="Return the plan", times=times
    )


def script_happy(stub: StubAPI) -> None:
    script_plan(stub, HAPPY_PLAN)
    stub.script(
        Reply(
            answer("renamed", udiff("shop/storage.py", STORAGE, NEW_STORAGE)),
            input_tokens=900,
            output_tokens=120,
        ),
        model=HAIKU,
        match=marker("storage"),
    )
    stub.script(
        Reply(answer("notes", udiff("docs/storage.md", None, NOTES)), input_tokens=500, output_tokens=60),
        model=HAIKU,
        match=marker("notes"),
    )
    stub.script(
        Reply(
            answer("callers", udiff("shop/service.py", SERVICE, NEW_SERVICE)),
            input_tokens=1200,
            output_tokens=150,
        ),
        model=SONNET,
        match=marker("service"),
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's exact bytes outside .git."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and "__pycache__" not in p.parts
    }


GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    import os

    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
