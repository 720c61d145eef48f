"""Transcripts in Claude Code's shape, written by the audit tests, and running the audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codetier.cli import main


def usage_line(
    mid: str | None, rid: str | None, model: str, ts: str, n_in: int, n_out: int | None, **kw: Any
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": n_in,
        "output_tokens": n_out,
        "cache_creation_input_tokens": kw.get("cw", 0),
        "cache_read_input_tokens": kw.get("cr", 0),
    }
    if "cw_1h" in kw:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": kw.get("cw", 0) - kw["cw_1h"],
                                   "ephemeral_1h_input_tokens": kw["cw_1h"]}  # fmt: skip
    line: dict[str, Any] = {
        "type": "assistant",
        "timestamp": ts,
        "sessionId": "sess-1",
        "isSidechain": kw.get("side", False),
        "cwd": "/work/app",
        "version": "2.1.0",
        "message": {
            "id": mid,
            "model": model,
            "role": "assistant",
            "usage": usage,
            "content": [{"type": "text", "text": "ok"}],
        },
    }
    if rid is not None:
        line["requestId"] = rid
    return line


def prompt_line(text: str, ts: str, uuid: str) -> dict[str, Any]:
    return {"type": "user", "timestamp": ts, "sessionId": "sess-1", "uuid": uuid, "cwd": "/work/app",
            "message": {"role": "user", "content": text}}  # fmt: skip


def write(path: Path, lines: list[Any], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as f:
        for line in lines:
            f.write(line if isinstance(line, str) else dump(line))


def dump(obj: Any) -> str:
    """One transcript line."""
    return json.dumps(obj, separators=(",", ":")) + "\n"


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["audit", "--json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def by_model(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["day"], m["model"]): m for d in data["daily"] for m in d["models"]}
