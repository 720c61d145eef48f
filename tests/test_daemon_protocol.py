"""JSON-RPC framing: whatever a client sends, the answer is a response or an error, never a crash."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from codetier.daemon import protocol
from codetier.daemon.protocol import RpcFailure, param
from codetier.errors import BudgetRefused


def _boom(params: Mapping[str, Any]) -> Any:
    raise RuntimeError("kaput")


def _refuse(params: Mapping[str, Any]) -> Any:
    raise BudgetRefused("daily", 1_000_000, 2_000_000)


def _echo(params: Mapping[str, Any]) -> Any:
    return {"n": param(params, "n", int)}


METHODS = {"echo": _echo, "boom": _boom, "refuse": _refuse}


def answer(line: bytes) -> Any:
    out = protocol.handle_line(line, METHODS)
    return None if out is None else json.loads(out)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{nope", protocol.PARSE_ERROR),
        (b"\xff\xfe", protocol.PARSE_ERROR),
        (b"42", protocol.INVALID_REQUEST),
        (b'{"id": 1, "method": "echo"}', protocol.INVALID_REQUEST),  # no "jsonrpc": "2.0"
        (b'{"jsonrpc": "2.0", "id": [1], "method": "echo"}', protocol.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 7}', protocol.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "nope"}', protocol.METHOD_NOT_FOUND),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "echo", "params": [1]}', protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {}}', protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"n": true}}', protocol.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "boom"}', protocol.INTERNAL_ERROR),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "refuse"}', protocol.CODETIER_ERROR),
        (b"[]", protocol.INVALID_REQUEST),
    ],
)
def test_bad_input_becomes_a_json_rpc_error(line: bytes, code: int) -> None:
    reply = answer(line)
    assert reply["jsonrpc"] == "2.0"
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]


def test_a_codetier_error_carries_its_exit_code() -> None:
    reply = answer(b'{"jsonrpc": "2.0", "id": "a", "method": "refuse"}')
    assert reply["id"] == "a"
    assert reply["error"]["data"] == {"exit_code": 1, "kind": "BudgetRefused"}
    assert "daily budget" in reply["error"]["message"]


def test_a_result_echoes_the_id() -> None:
    assert answer(b'{"jsonrpc": "2.0", "id": 7, "method": "echo", "params": {"n": 3}}') == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {"n": 3},
    }


def test_a_notification_gets_no_answer() -> None:
    assert answer(b'{"jsonrpc": "2.0", "method": "echo", "params": {"n": 3}}') is None


def test_a_batch_answers_each_request_but_not_notifications() -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"n": 1}},
        {"jsonrpc": "2.0", "method": "echo", "params": {"n": 2}},
        {"jsonrpc": "2.0", "id": 3, "method": "nope"},
    ]
    replies = answer(json.dumps(batch).encode())
    assert [r["id"] for r in replies] == [1, 3]
    assert replies[0]["result"] == {"n": 1}
    assert replies[1]["error"]["code"] == protocol.METHOD_NOT_FOUND


def test_param_names_the_parameter() -> None:
    with pytest.raises(RpcFailure, match="'repo'"):
        param({}, "repo", str)
    assert param({}, "repo", str, None) is None
