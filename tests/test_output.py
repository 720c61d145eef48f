"""emit_json: msgspec's speed, json.dumps's text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import msgspec  # noqa: F401  (loaded, as in an audit: emit_json then encodes with it)
import pytest

from codetier import output

SAME = [
    {"b": [1, 0.25, None, True], "a": {"z": {}, "y": []}, "c": "plain"},
    {"é": "→ ünïcode", "lone": "\udcff"},  # non-ASCII and a lone surrogate: json's escapes
    {"n": 3, "path": "ok"},
]


@pytest.mark.parametrize("data", SAME)
def test_the_text_is_what_json_dumps_writes(data: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    output.emit_json(data)
    assert capsys.readouterr().out == json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


def test_non_ascii_prints_on_an_ascii_stdout() -> None:
    code = "import msgspec; from codetier import output; output.emit_json({'model': 'clé → x'})"
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"model": "clé → x"}


def test_a_small_answer_does_not_load_msgspec_to_print_itself() -> None:
    code = (
        "import sys; from codetier import output; output.emit_json({'a': 1}); print('msgspec' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "False"
