"""The Anthropic SDK transport: streaming calls, Temporal owns the retries.

Faults are classified by the Messages API error *type* (``overloaded_error``,
``invalid_request_error``...), by one table (:data:`ERROR_KINDS`), whether the
error came as an HTTP status or as an ``error`` event inside a stream that had
already answered HTTP 200 (the SDK raises an ``APIStatusError`` with status 200
and the event as ``body`` for the latter). The HTTP status only picks a type
when the body names none.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic

from sagaflow.errors import ModelError
from sagaflow.models import INCOMPLETE, ModelReply
from sagaflow.pricing import USAGE_KEYS

_client: anthropic.AsyncAnthropic | None = None

#: error type -> (retryable, what to do); source: the Messages API "Errors" page
ERROR_KINDS: dict[str, tuple[bool, str]] = {
    "overloaded_error": (True, "the API is overloaded; will retry"),
    "api_error": (True, "the API had an internal error; will retry"),
    "rate_limit_error": (True, "rate limited; will retry"),
    "timeout_error": (True, "the API timed out; will retry"),
    "invalid_request_error": (False, "the request was rejected; check the skill's prompt and "
                                     "max_tokens"),
    "authentication_error": (False, "check ANTHROPIC_API_KEY"),
    "permission_error": (False, "the key lacks permission for this model"),
    "not_found_error": (False, "check the model id for this tier in config.yaml"),
    "request_too_large": (False, "the prompt is too large; shorten it"),
    "billing_error": (False, "check the account's billing and credits"),
}
#: the type an HTTP status stands for when the body names none
_STATUS_KINDS = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
    403: "permission_error", 404: "not_found_error", 408: "timeout_error",
    409: "api_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error",
}


def client() -> anthropic.AsyncAnthropic:
    """One client per worker process; the SDK reads key and base URL from the env.

    Building it loads the TLS trust store (tens of ms, more on a busy host): the
    worker builds it in a thread at start (``warm_up``), and :func:`call` in a
    thread if it is still missing.
    """
    global _client
    if _client is None:
        _client = anthropic.AsyncAnthropic(max_retries=0)
    return _client


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) / scale)
            except ValueError:
                continue
    return None


def error_kind(status: int, body: object) -> tuple[str, str]:
    """``(error type, message)`` of an error response or stream ``error`` event."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("type"):
        return str(err["type"]), str(err.get("message") or "")
    kind = _STATUS_KINDS.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
    return kind, ""


def classify(exc: Exception) -> ModelError:
    """Map an SDK exception to a ModelError whose retry flag follows the error type."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers if exc.response is not None else None
        kind, message = error_kind(status, exc.body)
        retryable, hint = ERROR_KINDS.get(
            kind, (status >= 500, "will retry" if status >= 500 else "not retrying")
        )
        in_stream = status < 400  # an ``error`` event after the stream answered 200
        should = headers.get("x-should-retry") if headers is not None and not in_stream else None
        if should in ("true", "false"):
            retryable = should == "true"
            hint = hint if retryable == ERROR_KINDS.get(kind, (None,))[0] else (
                "will retry" if retryable else "not retrying")
        detail = f"{kind}: {message or exc.message}".strip()
        where = f"in the reply stream (HTTP {status})" if in_stream else f"with HTTP {status}"
        return ModelError(
            f"Model call failed {where} ({detail}); {hint}.",
            retryable=retryable,
            status=status,
            retry_after=_retry_after(headers),
        )
    if isinstance(exc, anthropic.APIConnectionError):
        return ModelError(
            f"Cannot reach the model API ({type(exc).__name__}); will retry. "
            "Check the network or ANTHROPIC_BASE_URL.",
            retryable=True,
        )
    return ModelError(f"Model call failed: {type(exc).__name__}: {exc}", retryable=True)


async def _stream(**request: Any) -> tuple[Any, bool]:
    """Stream one Messages API request to its end; returns the final message and whether
    ``message_stop`` arrived.

    Raises:
        ModelError: classified by :func:`classify`, or an empty stream (retryable).
    """
    # TLS setup off the loop when the worker did not build the client yet (see client)
    api = _client if _client is not None else await asyncio.to_thread(client)
    started = stopped = False
    try:
        async with api.messages.stream(**request) as stream:
            async for event in stream:
                started = started or event.type == "message_start"
                stopped = stopped or event.type == "message_stop"
            if not started:
                raise ModelError(
                    "The model API answered with an empty reply stream (no message_start); "
                    "will retry.", retryable=True,
                )
            return stream.current_message_snapshot, stopped
    except anthropic.AnthropicError as exc:
        raise classify(exc) from None


async def call(*, model: str, system: str, user: str, max_tokens: int) -> ModelReply:
    """Stream one reply; returns its text, usage and stop reason.

    A stream that ends without ``message_stop`` comes back with stop reason
    :data:`~sagaflow.models.INCOMPLETE` (its usage so far is still paid, so the
    caller costs it before failing the step).

    Raises:
        ModelError: an HTTP error, an ``error`` event in the stream, or no connection.
    """
    message, stopped = await _stream(
        model=model, max_tokens=max_tokens, system=system,
        messages=[{"role": "user", "content": user}],
    )
    text = "".join(getattr(block, "text", "") for block in message.content)
    counts = {key: int(getattr(message.usage, key, 0) or 0) for key in USAGE_KEYS}
    stop = str(message.stop_reason or "") if stopped else INCOMPLETE
    return ModelReply(text=text, model=message.model, transport="anthropic", usage=counts,
                      stop_reason=stop)


async def call_turn(
    *, model: str, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
    max_tokens: int,
) -> Any:
    """Stream one assistant message of a tool-using conversation.

    Returns:
        :class:`sagaflow.models.turns.TurnReply` (its content blocks as plain dicts).

    Raises:
        ModelError: as :func:`call` (same classification).
    """
    from sagaflow.models.turns import TurnReply

    message, stopped = await _stream(
        model=model, max_tokens=max_tokens, system=system, messages=messages, tools=tools,
    )
    content: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            content.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            content.append({"type": "tool_use", "id": block.id, "name": block.name,
                            "input": dict(block.input) if isinstance(block.input, dict) else {}})
    counts = {key: int(getattr(message.usage, key, 0) or 0) for key in USAGE_KEYS}
    stop = str(message.stop_reason or "") if stopped else INCOMPLETE
    return TurnReply(content=content, model=message.model, transport="anthropic", usage=counts,
                     stop_reason=stop)
