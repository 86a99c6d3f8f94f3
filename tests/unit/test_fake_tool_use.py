"""The fake Messages API's tool use, through the real SDK and sagaflow's anthropic transport."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anthropic
import pytest
from fake_anthropic import FakeAnthropic

from sagaflow.errors import ModelError
from sagaflow.models import anthropic_api

TOOLS = [{"name": "Read", "description": "read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}}}]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        monkeypatch.setattr(anthropic_api, "_client", None)
        yield server


def _turn(messages: list[dict]) -> object:
    anthropic_api._client = None  # one client per event loop (each asyncio.run is a new one)
    return asyncio.run(anthropic_api.call_turn(
        model="claude-fake", system="s", messages=messages, tools=TOOLS, max_tokens=100))


def test_streamed_tool_use_then_tool_result_then_text(fake: FakeAnthropic) -> None:
    fake.script_turns([{"text": "reading", "tools": [{"Read": {"file_path": "/w/a.md"}}]},
                       {"text": "it says $last"}])
    first = _turn([{"role": "user", "content": "go"}])
    assert first.stop_reason == "tool_use"  # type: ignore[attr-defined]
    (use,) = first.tool_uses  # type: ignore[attr-defined]
    assert (use["name"], use["input"]) == ("Read", {"file_path": "/w/a.md"})
    second = _turn([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": first.content},  # type: ignore[attr-defined]
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"],
                                      "content": "alpha"}]},
    ])
    assert second.text == "it says alpha"  # type: ignore[attr-defined]
    assert fake.requests[-1]["tool_results"][0]["tool_use_id"] == use["id"]


def test_plain_json_tool_use(fake: FakeAnthropic) -> None:
    fake.script_turns([{"tools": [{"Read": {"file_path": "x"}}]}])
    client = anthropic.Anthropic(api_key="k", base_url=fake.url, max_retries=0)
    message = client.messages.create(model="m", max_tokens=10, tools=TOOLS,  # type: ignore[arg-type]
                                     messages=[{"role": "user", "content": "go"}])
    assert message.stop_reason == "tool_use"
    assert message.content[0].type == "tool_use"


def test_a_missing_tool_result_is_refused_like_the_api(fake: FakeAnthropic) -> None:
    fake.script_turns([{"tools": [{"Read": {"file_path": "x"}}]}, {"text": "done"}])
    first = _turn([{"role": "user", "content": "go"}])
    with pytest.raises(ModelError, match="without `tool_result` blocks") as info:
        _turn([{"role": "user", "content": "go"},
               {"role": "assistant", "content": first.content},  # type: ignore[attr-defined]
               {"role": "user", "content": "no results here"}])
    assert not info.value.retryable
    assert "tool_problem" in fake.requests[-1]
