"""The Anthropic SDK transport: streaming calls, Temporal owns the retries."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic

from sagaflow.errors import ModelError
from sagaflow.models import ModelReply
from sagaflow.pricing import USAGE_KEYS

_client: anthropic.AsyncAnthropic | None = None

_RETRYABLE = {408, 409, 429, 529}
_HINTS = {
    400: "the request was rejected; check the skill's prompt and max_tokens",
    401: "check ANTHROPIC_API_KEY",
    403: "the key lacks permission for this model",
    404: "check the model id for this tier in config.yaml",
    413: "the prompt is too large; shorten it",
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


def classify(exc: Exception) -> ModelError:
    """Map an SDK exception to a ModelError with the right retry flag."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers if exc.response is not None else None
        detail = exc.message
        body = exc.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
            detail = f"{err.get('type', 'error')}: {err.get('message', '')}".strip()
        retryable = status in _RETRYABLE or status >= 500
        should = headers.get("x-should-retry") if headers is not None else None
        if should in ("true", "false"):
            retryable = should == "true"
        hint = _HINTS.get(status, "will retry" if retryable else "not retrying")
        return ModelError(
            f"Model call failed with HTTP {status} ({detail}); {hint}.",
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


async def call(*, model: str, system: str, user: str, max_tokens: int) -> ModelReply:
    """Stream one reply and return its text and usage."""
    # TLS setup off the loop when the worker did not build the client yet (see client)
    api = _client if _client is not None else await asyncio.to_thread(client)
    try:
        async with api.messages.stream(
            model=model,
            max_tokens=max_tokens,
            system=system,
            messages=[{"role": "user", "content": user}],
        ) as stream:
            message = await stream.get_final_message()
    except anthropic.AnthropicError as exc:
        raise classify(exc) from None
    text = "".join(getattr(block, "text", "") for block in message.content)
    counts = {key: int(getattr(message.usage, key, 0) or 0) for key in USAGE_KEYS}
    return ModelReply(text=text, model=message.model, transport="anthropic", usage=counts)
