"""Model faults: stream error events, stop reasons, empty and cut replies (issue 8, items 8-9).

The real ``anthropic`` SDK talks to the loopback fake (tests/fake_anthropic.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import sagaflow.models.anthropic_api as anthropic_api
from sagaflow._engine.model_call import MAX_OUTPUT_BYTES, _oversized, reply_problem
from sagaflow._engine.seeds import SpawnSubagentInput
from sagaflow.errors import ModelError
from sagaflow.models import INCOMPLETE, ModelReply

try:
    from fake_anthropic import FakeAnthropic
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.fake_anthropic import FakeAnthropic  # type: ignore[no-redef,import-untyped,unused-ignore]

BLOCK = "STRUCTURED_OUTPUT_START\nRESULT|ok\nSTRUCTURED_OUTPUT_END"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-fake")
        monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
        monkeypatch.setattr(anthropic_api, "_client", None)
        yield server


def call_api() -> ModelReply:
    async def run() -> ModelReply:
        try:
            return await anthropic_api.call(model="claude-x", system="s", user="hi", max_tokens=64)
        finally:
            await anthropic_api.client().close()
            anthropic_api._client = None

    return asyncio.run(run())


def stream_error() -> ModelError:
    with pytest.raises(ModelError) as info:
        call_api()
    return info.value


@pytest.mark.parametrize("kind", ["overloaded_error", "api_error", "rate_limit_error"])
def test_error_event_after_200_is_retryable_by_type(fake: FakeAnthropic, kind: str) -> None:
    fake.inject_reply(error_type=kind)
    err = stream_error()
    assert err.retryable is True
    assert kind in str(err) and "in the reply stream" in str(err)
    assert "not retrying" not in str(err)


@pytest.mark.parametrize(
    "kind", ["invalid_request_error", "authentication_error", "permission_error", "not_found_error"]
)
def test_error_event_of_a_client_type_is_not_retryable(fake: FakeAnthropic, kind: str) -> None:
    fake.inject_reply(error_type=kind)
    err = stream_error()
    assert err.retryable is False
    assert kind in str(err)


def test_one_table_for_status_and_stream() -> None:
    # the status only names a type when the body names none
    assert anthropic_api.error_kind(529, None)[0] == "overloaded_error"
    assert anthropic_api.error_kind(200, {"error": {"type": "api_error", "message": "m"}}) == (
        "api_error", "m")
    assert anthropic_api.error_kind(503, {})[0] == "api_error"
    for kind, (retryable, hint) in anthropic_api.ERROR_KINDS.items():
        assert ("will retry" in hint) is retryable, kind


@pytest.mark.parametrize("stop", ["max_tokens", "refusal", "end_turn"])
def test_stop_reason_reaches_the_reply(fake: FakeAnthropic, stop: str) -> None:
    fake.inject_reply(stop_reason=stop, text="" if stop == "refusal" else "some text")
    reply = call_api()
    assert reply.stop_reason == stop


def test_stream_without_message_stop_is_incomplete(fake: FakeAnthropic) -> None:
    fake.inject_reply(cut=True, text=BLOCK)
    assert call_api().stop_reason == INCOMPLETE


def test_empty_reply_has_no_text(fake: FakeAnthropic) -> None:
    fake.inject_reply(text="")
    reply = call_api()
    assert reply.text == "" and reply.stop_reason == "end_turn"


def _inp(**kw: object) -> SpawnSubagentInput:
    return SpawnSubagentInput(role="writer", tier_name="HAIKU", system_prompt="s",
                              user_prompt_path="/p", max_tokens=100, **kw)  # type: ignore[arg-type]


def _reply(text: str, stop: str) -> ModelReply:
    return ModelReply(text=text, model="m", transport="anthropic", stop_reason=stop)


def test_reply_problems_and_their_retry_flags(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    refusal = reply_problem(_reply("", "refusal"), _inp(), out)
    assert refusal is not None and not refusal.retryable
    assert refusal.message.startswith("The model declined")
    cut = reply_problem(_reply(BLOCK, INCOMPLETE), _inp(), out)
    assert cut is not None and cut.retryable and "message_stop" in cut.message
    empty = reply_problem(_reply("  \n", "end_turn"), _inp(), out)
    assert empty is not None and empty.retryable and "empty reply" in empty.message
    scripted = reply_problem(
        ModelReply(text="", model="scripted", transport="scripted", stop_reason="end_turn"),
        _inp(), out)
    assert scripted is not None and not scripted.retryable
    truncated = reply_problem(_reply("STRUCTURED_OUTPUT_START\nRESULT|par", "max_tokens"), _inp(), out)
    assert truncated is not None and not truncated.retryable
    assert "max_tokens=100" in truncated.message and "writer" in truncated.message
    assert str(out) in truncated.message
    again = reply_problem(_reply("cut", "max_tokens"), _inp(retry_truncated=True), out)
    assert again is not None and again.retryable
    # a complete block before the cut is a usable result; so is a normal reply
    assert reply_problem(_reply(BLOCK + "\nmore", "max_tokens"), _inp(), out) is None
    assert reply_problem(_reply(BLOCK, "end_turn"), _inp(), out) is None


def test_oversized_output_is_refused_before_history(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert _oversized({"A": "x" * 1000}, out) is None
    big = _oversized({"A": "x", "BODY": "y" * (MAX_OUTPUT_BYTES + 1)}, out)
    assert big is not None and not big.retryable
    assert "BODY" in big.message and str(out) in big.message
