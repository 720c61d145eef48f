"""JSON-RPC 2.0 over a stream, one JSON object per line.

`handle_line` turns one received line into the line to send back (or None for
a notification). Nothing a client sends can raise out of it: bad JSON, a bad
request shape, an unknown method, bad params and a handler's own failure all
become JSON-RPC errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from codetier.errors import CodetierError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Server-defined range (-32000 to -32099): a codetier error the user can act on.
CODETIER_ERROR = -32000
SHUTTING_DOWN = -32001
ELSEWHERE = -32002  # not for the daemon to do: the client does it in-process

log = logging.getLogger("codetier.daemon")

Handler = Callable[[Mapping[str, Any]], Any]


class RpcFailure(Exception):
    """Raised by a handler to answer with a specific JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        self.code, self.data = code, data
        super().__init__(message)


def error(req_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": req_id, "error": body}


def _one(message: Any, methods: Mapping[str, Handler]) -> dict[str, Any] | None:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error(None, INVALID_REQUEST, "expected a JSON-RPC 2.0 request object")
    req_id = message.get("id")
    notification = "id" not in message
    if isinstance(req_id, bool) or not isinstance(req_id, (str, int, float, type(None))):
        return error(None, INVALID_REQUEST, "id must be a string, a number or null")
    method = message.get("method")
    if not isinstance(method, str):
        return error(req_id, INVALID_REQUEST, "method must be a string")
    params = message.get("params", {})
    if not isinstance(params, dict):
        return error(req_id, INVALID_PARAMS, "params must be an object (named parameters)")
    handler = methods.get(method)
    if handler is None:
        return error(
            req_id, METHOD_NOT_FOUND, f"unknown method {method!r}; known: {', '.join(sorted(methods))}"
        )
    try:
        result = handler(params)
    except RpcFailure as e:
        reply = error(req_id, e.code, str(e), e.data)
    except CodetierError as e:
        # an error raised in the model worker keeps its own kind
        kind = getattr(e, "remote_kind", None) or type(e).__name__
        reply = error(req_id, CODETIER_ERROR, str(e), {"exit_code": e.exit_code, "kind": kind})
    except Exception as e:
        log.exception("method %s failed", method)
        reply = error(req_id, INTERNAL_ERROR, f"internal error in {method}: {type(e).__name__}: {e}")
    else:
        reply = {"jsonrpc": "2.0", "id": req_id, "result": result}
    return None if notification else reply


def handle_line(line: bytes, methods: Mapping[str, Handler]) -> bytes | None:
    """One request (or batch) in, one response line out (None: nothing to send)."""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        return encode(error(None, PARSE_ERROR, f"parse error: {e}"))
    if isinstance(message, list):
        if not message:
            return encode(error(None, INVALID_REQUEST, "empty batch"))
        replies = [r for r in (_one(m, methods) for m in message) if r is not None]
        return encode(replies) if replies else None
    reply = _one(message, methods)
    return None if reply is None else encode(reply)


def encode(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"


def param(params: Mapping[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    """A named parameter of the expected type, or an INVALID_PARAMS error naming it."""
    if name not in params:
        if default is ...:
            raise RpcFailure(INVALID_PARAMS, f"missing parameter {name!r}")
        return default
    value = params[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        raise RpcFailure(INVALID_PARAMS, f"parameter {name!r}: expected {expected}, got {value!r}")
    return value
