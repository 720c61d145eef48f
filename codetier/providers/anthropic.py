"""Claude through the official SDK. Errors become ProviderError via one table."""

from __future__ import annotations

import threading
from typing import Any

import anthropic

from codetier.errors import NoKeyError
from codetier.pricing import Usage
from codetier.providers.base import Call, Completion, ProviderError
from codetier.providers.keys import credentials

# SDK error type -> (table key, retryable by escalation?, sentence for the user).
# Order matters: OverloadedError subclasses InternalServerError.
ERRORS: tuple[tuple[type[Exception], str, bool, str], ...] = (
    (anthropic.OverloadedError, "overloaded", True, "the API is overloaded (529)"),
    (anthropic.RateLimitError, "rate_limited", True, "rate limited (429)"),
    (anthropic.InternalServerError, "server_error", True, "the API had a server error"),
    (anthropic.APITimeoutError, "timeout", True, "the request timed out"),
    (anthropic.APIConnectionError, "connection", True, "could not connect to the API"),
    (anthropic.AuthenticationError, "auth", False, "the API key was rejected (401)"),
    (anthropic.PermissionDeniedError, "permission", False, "the API key lacks permission (403)"),
    (anthropic.NotFoundError, "not_found", True, "the model was not found (404)"),
    (anthropic.BadRequestError, "bad_request", True, "the API rejected the request (400)"),
    (anthropic.APIResponseValidationError, "malformed", True, "the API sent a malformed reply"),
    (anthropic.APIStatusError, "api_error", True, "the API returned an error"),
    (anthropic.APIError, "api_error", True, "the API call failed"),
)

_clients: dict[tuple[str, str | None, int], anthropic.Anthropic] = {}
_lock = threading.Lock()


def _client(key: str, base: str | None, retries: int = 2) -> anthropic.Anthropic:
    with _lock:
        client = _clients.get((key, base, retries))
        if client is None:
            client = anthropic.Anthropic(api_key=key, base_url=base, max_retries=retries)
            _clients[(key, base, retries)] = client
        return client


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "[redacted]") if key else text


def _detail(e: Exception) -> str:
    """The API's own message when it sent one, not the SDK's dump of the body."""
    body = getattr(e, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
        if isinstance(message, str) and message:
            return message
    if isinstance(e, anthropic.APIConnectionError):
        request = getattr(e, "request", None)
        url = getattr(request, "url", None)
        return f"no answer from {url}" if url else "no answer"
    return str(e)


def _usage(raw: Any) -> Usage:
    def n(v: Any) -> int:
        return int(v or 0)

    detail = getattr(raw, "cache_creation", None)
    write_5m = n(getattr(detail, "ephemeral_5m_input_tokens", 0))
    write_1h = n(getattr(detail, "ephemeral_1h_input_tokens", 0))
    total_writes = n(getattr(raw, "cache_creation_input_tokens", 0))
    if write_5m + write_1h < total_writes:  # no breakdown: the SDK default is 5 minutes
        write_5m = total_writes - write_1h
    return Usage(
        input=n(raw.input_tokens),
        output=n(raw.output_tokens),
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        cache_read=n(getattr(raw, "cache_read_input_tokens", 0)),
    )


class AnthropicProvider:
    name = "anthropic"

    def complete(self, call: Call) -> Completion:
        creds = credentials()
        if creds is None:
            raise NoKeyError(f"task {call.task}")
        key, base = creds
        kwargs: dict[str, Any] = {
            "model": call.model,
            "max_tokens": call.max_tokens,
            "messages": [{"role": "user", "content": call.prompt}],
        }
        if call.system:
            kwargs["system"] = call.system
        if call.effort:
            kwargs["output_config"] = {"effort": call.effort}
        try:
            msg = _client(key, base, call.max_retries).messages.create(timeout=call.timeout, **kwargs)
        except ValueError as e:  # a body that is not JSON surfaces as JSONDecodeError
            raise ProviderError("malformed", f"the API sent a malformed reply: {e}", retryable=True) from None
        except Exception as e:
            for etype, kind, retryable, sentence in ERRORS:
                if isinstance(e, etype):
                    status = getattr(e, "status_code", None)
                    detail = _scrub(_detail(e), key)[:200]
                    raise ProviderError(
                        kind, f"{sentence}: {detail}", retryable=retryable, status=status
                    ) from None
            raise
        if not isinstance(msg, anthropic.types.Message) or msg.content is None or msg.usage is None:
            raise ProviderError("malformed", "the API sent a reply that is not a message", retryable=True)
        text = "".join(getattr(block, "text", "") or "" for block in msg.content)
        return Completion(
            text=text,
            usage=_usage(msg.usage),
            model=msg.model,
            stop_reason=msg.stop_reason,
            request_id=getattr(msg, "_request_id", None),
        )

    def count_tokens(self, call: Call) -> int | None:
        """The exact prompt size from the API, or None when it cannot be reached."""
        creds = credentials()
        if creds is None:
            return None
        key, base = creds
        try:
            res = _client(key, base, call.max_retries).messages.count_tokens(
                model=call.model or "",
                system=call.system or anthropic.omit,
                messages=[{"role": "user", "content": call.prompt}],
            )
        except anthropic.APIError:
            return None
        return int(res.input_tokens)
