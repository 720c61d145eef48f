"""A local, scriptable stub of the Anthropic Messages API for tests (stdlib only).

with StubAPI() as stub:
    stub.script(Fault(529), model="claude-x", match="retry me", times=2)
    client = anthropic.Anthropic(api_key="k", base_url=stub.base_url)
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MESSAGES = "/v1/messages"
COUNT_TOKENS = "/v1/messages/count_tokens"
ERROR_TYPES = {
    **{400: "invalid_request_error", 401: "authentication_error", 403: "permission_error"},
    **{404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error"},
    **{500: "api_error", 529: "overloaded_error"},
}


def estimate_tokens(text: str) -> int:
    """Deterministic local token estimate: ceil(chars / 4)."""
    return math.ceil(len(text) / 4)


def _collect(obj: Any, out: list[str]) -> None:
    """Gather text from a system prompt or message content (str or block lists)."""
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, list):
        for item in obj:
            _collect(item, out)
    elif isinstance(obj, dict):
        if isinstance(obj.get("text"), str):
            out.append(obj["text"])
        elif "content" in obj:  # e.g. tool_result blocks
            _collect(obj["content"], out)


def request_text(body: dict[str, Any]) -> str:
    """All system + message text of a request body, joined with newlines."""
    parts: list[str] = []
    _collect(body.get("system"), parts)
    for msg in body.get("messages") or []:
        if isinstance(msg, dict):
            _collect(msg.get("content"), parts)
    return "\n".join(parts)


@dataclass
class Recorded:
    """One received request; ``ended`` stays 0.0 until the response is ready to be written."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    model: str | None
    text: str
    started: float
    ended: float = 0.0


@dataclass
class Reply:
    """A 200 message reply; token counts default to local estimates."""

    text: str
    _: KW_ONLY
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_5m: int = 0
    cache_creation_1h: int = 0
    cache_read: int = 0
    stop_reason: str = "end_turn"
    delay: float = 0.0


@dataclass
class Fault:
    """An HTTP error status with an Anthropic-shaped error body.

    The anthropic SDK treats ``retry-after: 0`` as "unspecified" and backs off ~0.5-1s, but
    honours the (checked first) ``retry-after-ms`` header, so that defaults to 1 ms.
    """

    status: int
    _: KW_ONLY
    error_type: str | None = None
    message: str = "stub fault"
    retry_after: str | None = "0"
    retry_after_ms: str | None = "1"
    should_retry: bool | None = None


@dataclass
class Hang:
    """Wait ``seconds`` (cut short by ``stop()``), then reply 200 "late"."""

    seconds: float


@dataclass
class Malformed:
    """A broken response body."""

    body: bytes = b"{not json"
    status: int = 200
    content_type: str = "application/json"


@dataclass
class Callback:
    """Decide the response from the recorded request."""

    fn: Callable[[Recorded], Response]


Response = Reply | Fault | Hang | Malformed | Callback
Match = str | re.Pattern[str] | None


@dataclass
class _Script:
    response: Response
    model: str | None
    match: Match
    times: int | None


def _found(match: Match, text: str) -> bool:
    if match is None or isinstance(match, str):
        return match is None or match in text
    return match.search(text) is not None


class StubAPI:
    """Threaded HTTP stub of the Messages API on 127.0.0.1:<ephemeral port>."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.default: Response = Reply("ok")
        self.base_url = ""
        self._scripts: list[_Script] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> StubAPI:
        """Bind an ephemeral port and serve in a daemon thread; returns self."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._handle(self)

            do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake sleeping handlers, stop serving and close the socket (idempotent)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StubAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(
        self,
        response: Response,
        *,
        model: str | None = None,
        match: Match = None,
        times: int | None = 1,
    ) -> None:
        """Queue a response for /v1/messages; ``times=None`` means forever."""
        with self._lock:
            self._scripts.append(_Script(response, model, match, times))

    @property
    def calls(self) -> int:
        """Number of /v1/messages requests received."""
        with self._lock:
            return sum(r.path == MESSAGES for r in self.requests)

    @property
    def pending(self) -> int:
        """Number of queued scripts not yet used up."""
        with self._lock:
            return len(self._scripts)

    def texts_for(self, model: str) -> list[str]:
        """Texts of the /v1/messages requests made for ``model``."""
        with self._lock:
            return [r.text for r in self.requests if r.path == MESSAGES and r.model == model]

    def reset(self) -> None:
        """Forget recorded requests and scripts; restore the default reply."""
        with self._lock:
            self.requests.clear()
            self._scripts.clear()
            self.default = Reply("ok")

    def _pick(self, rec: Recorded) -> Response:
        with self._lock:
            for s in self._scripts:
                if s.model in (None, rec.model) and _found(s.match, rec.text):
                    if s.times is not None:
                        s.times -= 1
                        if s.times <= 0:
                            self._scripts.remove(s)
                    return s.response
            return self.default

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = h.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        parsed: dict[str, Any] = body if isinstance(body, dict) else {}
        model = parsed.get("model") if isinstance(parsed.get("model"), str) else None
        rec = Recorded(path, headers, parsed, model, request_text(parsed), time.monotonic())
        with self._lock:
            self.requests.append(rec)
        rid = f"req_stub_{next(self._ids)}"
        resp: Response
        try:
            if h.command != "POST" or path not in (MESSAGES, COUNT_TOKENS):
                resp = Fault(404, message=f"Not found: {h.command} {path}")
            elif "x-api-key" not in headers and "authorization" not in headers:
                resp = Fault(401, message="missing x-api-key or Authorization header")
            elif not isinstance(body, dict):
                resp = Fault(400, message="request body is not a JSON object")
            elif path == COUNT_TOKENS:
                return self._send(h, 200, {"input_tokens": estimate_tokens(rec.text)}, rid)
            else:
                resp = self._pick(rec)
            if isinstance(resp, Callback):
                try:
                    resp = resp.fn(rec)
                except Exception as e:  # surface test bugs as a 500 rather than a hang
                    resp = Fault(500, message=f"stub callback raised {e!r}")
            self._respond(h, resp, rec, rid)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, e.g. its timeout fired
        finally:
            rec.ended = rec.ended or time.monotonic()

    def _respond(self, h: BaseHTTPRequestHandler, resp: Response, rec: Recorded, rid: str) -> None:
        if isinstance(resp, Hang):
            self._stopping.wait(resp.seconds)
            resp = Reply("late")
        if isinstance(resp, Malformed):
            self._send(h, resp.status, resp.body, rid, content_type=resp.content_type, rec=rec)
        elif isinstance(resp, Fault):
            fallback = "api_error" if resp.status >= 500 else "invalid_request_error"
            etype = resp.error_type or ERROR_TYPES.get(resp.status, fallback)
            extra = {} if resp.retry_after is None else {"retry-after": resp.retry_after}
            if resp.retry_after_ms is not None:
                extra["retry-after-ms"] = resp.retry_after_ms
            if resp.should_retry is not None:
                extra["x-should-retry"] = str(resp.should_retry).lower()
            err = {"type": etype, "message": resp.message}
            self._send(
                h, resp.status, {"type": "error", "error": err, "request_id": rid}, rid, extra, rec=rec
            )
        elif isinstance(resp, Reply):
            if resp.delay:
                self._stopping.wait(resp.delay)
            self._send(h, 200, _message(resp, rec, rid), rid, rec=rec)
        else:
            raise TypeError(f"not a stub response: {resp!r}")

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any] | bytes,
        rid: str,
        extra: dict[str, str] | None = None,
        content_type: str = "application/json",
        rec: Recorded | None = None,
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if rec is not None:  # before the client can read the reply: a test may look at once
            rec.ended = time.monotonic()
        h.send_response(status)
        headers = {"content-type": content_type, "content-length": str(len(data))}
        for k, v in {**headers, "request-id": rid, **(extra or {})}.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)


def _message(r: Reply, rec: Recorded, rid: str) -> dict[str, Any]:
    """The Messages API reply body for ``r``."""
    est_in, est_out = estimate_tokens(rec.text), estimate_tokens(r.text)
    usage = {
        "input_tokens": est_in if r.input_tokens is None else r.input_tokens,
        "output_tokens": est_out if r.output_tokens is None else r.output_tokens,
        "cache_creation_input_tokens": r.cache_creation_5m + r.cache_creation_1h,
        "cache_read_input_tokens": r.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": r.cache_creation_5m,
            "ephemeral_1h_input_tokens": r.cache_creation_1h,
        },
        "service_tier": "standard",
    }
    return {
        "id": "msg_stub_" + rid.removeprefix("req_stub_"),
        "type": "message",
        "role": "assistant",
        "model": rec.model,
        "content": [{"type": "text", "text": r.text}],
        "stop_reason": r.stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }
