"""Self-test of tests/stub_api.py against the real anthropic SDK."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam
from stub_api import (
    Callback,
    Fault,
    Hang,
    Malformed,
    Recorded,
    Reply,
    StubAPI,
    estimate_tokens,
)

USER: list[MessageParam] = [{"role": "user", "content": "hello stub"}]


@pytest.fixture
def stub() -> Iterator[StubAPI]:
    with StubAPI() as s:
        yield s


@pytest.fixture
def client(stub: StubAPI) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="sk-test", base_url=stub.base_url, max_retries=0) as c:
        yield c


def _create(c: anthropic.Anthropic, model: str = "m-1", **kw: Any) -> Any:
    return c.messages.create(model=model, max_tokens=16, messages=kw.pop("messages", USER), **kw)


def _raw(stub: StubAPI, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST with urllib (no SDK) and return (status, json body)."""
    data = json.dumps({"model": "m-1", "messages": USER}).encode()
    req = urllib.request.Request(stub.base_url + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read())


def test_reply_round_trip(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.script(
        Reply(
            "hi back",
            input_tokens=42,
            output_tokens=7,
            cache_creation_5m=3,
            cache_creation_1h=4,
            cache_read=5,
            stop_reason="max_tokens",
        )
    )
    msg = _create(client, system="be brief")
    assert msg.content[0].text == "hi back"
    assert msg.model == "m-1" and msg.role == "assistant" and msg.stop_reason == "max_tokens"
    assert msg.id.startswith("msg_")
    u = msg.usage
    assert (u.input_tokens, u.output_tokens, u.cache_read_input_tokens) == (42, 7, 5)
    assert u.cache_creation_input_tokens == 7
    assert u.cache_creation is not None
    assert u.cache_creation.ephemeral_5m_input_tokens == 3
    assert u.cache_creation.ephemeral_1h_input_tokens == 4
    assert u.service_tier == "standard"
    assert msg._request_id == "req_stub_1"
    (rec,) = stub.requests
    assert rec.path == "/v1/messages" and rec.model == "m-1"
    assert rec.text == "be brief\nhello stub"
    assert rec.body["max_tokens"] == 16
    assert 0 < rec.started <= rec.ended
    # What the SDK puts on the wire for auth and versioning.
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert "x-api-key" not in rec.headers
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rec.headers["anthropic-version"])


def test_default_reply_uses_estimates(stub: StubAPI, client: anthropic.Anthropic) -> None:
    blocks = [{"role": "user", "content": [{"type": "text", "text": "x" * 10}]}]
    msg = _create(client, messages=blocks, system=[{"type": "text", "text": "y" * 5}])
    assert msg.content[0].text == "ok"
    assert msg.usage.input_tokens == estimate_tokens("y" * 5 + "\n" + "x" * 10) == 4
    assert msg.usage.output_tokens == 1
    assert stub.calls == 1


@pytest.mark.parametrize(
    ("status", "exc", "etype"),
    [
        (529, anthropic.OverloadedError, "overloaded_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
    ],
)
def test_faults(
    stub: StubAPI,
    client: anthropic.Anthropic,
    status: int,
    exc: type[anthropic.APIStatusError],
    etype: str,
) -> None:
    stub.script(Fault(status, message="boom"))
    with pytest.raises(exc) as info:
        _create(client)
    assert info.value.status_code == status
    assert info.value.body["error"] == {"type": etype, "message": "boom"}  # type: ignore[index]
    assert info.value.response.headers["retry-after"] == "0"
    assert _create(client).content[0].text == "ok"  # script consumed


def test_overloaded_is_internal_server_error() -> None:
    assert issubclass(anthropic.OverloadedError, anthropic.InternalServerError)


def test_retries_then_fails(stub: StubAPI) -> None:
    stub.script(Fault(529), times=3)
    with anthropic.Anthropic(api_key="k", base_url=stub.base_url, max_retries=2) as c:
        t0 = time.monotonic()
        with pytest.raises(anthropic.OverloadedError):
            _create(c)
        assert time.monotonic() - t0 < 0.5  # retry-after-ms: 1 skips the SDK's backoff
    assert stub.calls == 3
    assert [r.headers["x-stainless-retry-count"] for r in stub.requests] == ["0", "1", "2"]
    assert stub.pending == 0


def test_should_retry_false_stops_retries(stub: StubAPI) -> None:
    stub.script(Fault(529, should_retry=False), times=None)
    c = anthropic.Anthropic(api_key="k", base_url=stub.base_url, max_retries=2)
    with c, pytest.raises(anthropic.OverloadedError):
        _create(c)
    assert stub.calls == 1


def test_hang_times_out_without_blocking(stub: StubAPI) -> None:
    stub.script(Hang(30), match="slow")
    with anthropic.Anthropic(api_key="k", base_url=stub.base_url, max_retries=0, timeout=0.5) as c:
        t0 = time.monotonic()
        with pytest.raises(anthropic.APITimeoutError):
            _create(c, messages=[{"role": "user", "content": "slow"}])
        assert time.monotonic() - t0 < 3
        assert _create(c).content[0].text == "ok"  # served while the hang still sleeps
    t0 = time.monotonic()
    stub.stop()
    assert time.monotonic() - t0 < 3


def test_malformed_json_raises_json_decode_error(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.script(Malformed())
    with pytest.raises(json.JSONDecodeError):  # the SDK does not wrap it
        _create(client)


def test_malformed_other_shapes(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.script(Malformed(b"oops", content_type="text/plain"))
    assert _create(client) == "oops"  # non-JSON content type: raw text is returned
    stub.script(Malformed(b"<html>bad gateway</html>", status=502, content_type="text/html"))
    with pytest.raises(anthropic.InternalServerError):
        _create(client)
    stub.script(Malformed(b'{"foo": 1}'))
    with (
        anthropic.Anthropic(
            api_key="k", base_url=stub.base_url, max_retries=0, _strict_response_validation=True
        ) as strict,
        pytest.raises(anthropic.APIResponseValidationError),
    ):
        _create(strict)


def test_count_tokens(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.script(Fault(500))  # count_tokens never consumes scripts
    res = client.messages.count_tokens(model="m-1", system="abcd", messages=USER)
    assert res.input_tokens == estimate_tokens("abcd\nhello stub") == 4
    assert stub.requests[0].path == "/v1/messages/count_tokens"
    assert stub.calls == 0 and stub.pending == 1


def test_scripts_pick_by_model_and_match(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.script(Reply("A"), model="m-a")
    stub.script(Reply("B"), model="m-b")
    stub.script(Reply("R"), match=re.compile(r"ticket-\d+"), times=None)
    stub.script(Reply("S"), match="needle")
    assert _create(client, model="m-b").content[0].text == "B"
    assert _create(client, model="m-b").content[0].text == "ok"
    assert _create(client, model="m-a").content[0].text == "A"
    for _ in range(2):
        msgs = [{"role": "user", "content": "see ticket-12"}]
        assert _create(client, messages=msgs).content[0].text == "R"
    needle = [{"role": "user", "content": "a needle"}]
    assert _create(client, messages=needle).content[0].text == "S"
    assert _create(client, messages=needle).content[0].text == "ok"
    assert stub.texts_for("m-b") == ["hello stub", "hello stub"]
    assert stub.calls == 7 and stub.pending == 1
    stub.reset()
    assert stub.calls == 0 and stub.pending == 0 and stub.requests == []


def test_callback(stub: StubAPI, client: anthropic.Anthropic) -> None:
    def fn(rec: Recorded) -> Reply | Fault:
        return Fault(429) if "limit" in rec.text else Reply(rec.text.upper())

    stub.script(Callback(fn), times=None)
    assert _create(client).content[0].text == "HELLO STUB"
    with pytest.raises(anthropic.RateLimitError):
        _create(client, messages=[{"role": "user", "content": "limit"}])
    stub.reset()
    stub.script(Callback(lambda rec: 1 / 0))  # type: ignore[arg-type,return-value]
    with pytest.raises(anthropic.InternalServerError, match="ZeroDivisionError"):
        _create(client)


def test_concurrent_requests_overlap(stub: StubAPI, client: anthropic.Anthropic) -> None:
    stub.default = Reply("slow ok", delay=0.3)
    threads = [threading.Thread(target=_create, args=(client,)) for _ in range(3)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - t0 < 0.85
    assert stub.calls == 3
    assert max(r.started for r in stub.requests) < min(r.ended for r in stub.requests)


def test_auth_and_unknown_paths(stub: StubAPI) -> None:
    ct = {"content-type": "application/json"}
    status, body = _raw(stub, "/v1/messages", ct)
    assert status == 401
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    status, body = _raw(stub, "/v1/messages", {**ct, "x-api-key": "k"})
    assert status == 200 and body["type"] == "message"
    assert body["content"] == [{"type": "text", "text": "ok"}] and body["stop_sequence"] is None
    status, body = _raw(stub, "/v1/nope", {**ct, "x-api-key": "k"})
    assert status == 404 and body["error"]["type"] == "not_found_error"
    assert [r.path for r in stub.requests] == ["/v1/messages"] * 2 + ["/v1/nope"]
    assert stub.calls == 2
