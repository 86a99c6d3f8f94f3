"""Tests for the fake Anthropic server, exercised with the real ``anthropic`` SDK."""

from __future__ import annotations

import asyncio
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

try:
    from fake_anthropic import FakeAnthropic
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.fake_anthropic import FakeAnthropic  # type: ignore[no-redef,import-untyped,unused-ignore]

MODEL = "claude-test-model"
FAKE_SCRIPT = Path(__file__).resolve().parent.parent / "fake_anthropic.py"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def client_for(fake: FakeAnthropic, timeout: float = 60.0) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="test", base_url=fake.url, max_retries=0, timeout=timeout)


def ask(client: anthropic.Anthropic, text: str) -> str:
    msg = client.messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": text}]
    )
    block = msg.content[0]
    assert block.type == "text"
    return block.text


def test_url_is_loopback_with_os_chosen_port() -> None:
    with FakeAnthropic() as a, FakeAnthropic() as b:
        assert a.url.startswith("http://127.0.0.1:")
        assert a.port != b.port
        assert a.port > 0


def test_plain_create(fake: FakeAnthropic) -> None:
    fake.add_reply(r"capital of France", "Paris.")
    client = client_for(fake)
    msg = client.messages.create(
        model=MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    assert msg.type == "message"
    assert msg.role == "assistant"
    assert msg.model == MODEL
    assert msg.id.startswith("msg_")
    assert msg.stop_reason == "end_turn"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].type == "text" and msg.content[0].text == "Paris."
    assert msg.usage.input_tokens > 0
    assert msg.usage.output_tokens > 0
    assert msg.usage.cache_creation_input_tokens == 0
    assert msg.usage.cache_read_input_tokens == 0

    (req,) = fake.requests
    assert req["method"] == "POST"
    assert req["path"] == "/v1/messages"
    # anthropic 2.x sends the api key as a bearer token; older SDKs use x-api-key.
    headers = req["headers"]
    assert headers.get("x-api-key") == "test" or headers.get("authorization") == "Bearer test"
    assert "anthropic-version" in req["headers"]
    assert req["json"]["model"] == MODEL
    assert req["text"] == "What is the capital of France?"
    assert req["fault"] is False
    assert req["reply"] == "Paris."


def test_query_string_block_content_and_system_list(fake: FakeAnthropic) -> None:
    fake.add_reply(r"second turn", "matched last user message")
    fake.add_reply(r"first turn", "matched an earlier message (wrong)")
    client = client_for(fake)
    msg = client.messages.create(
        model=MODEL,
        max_tokens=64,
        system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        tools=[{"name": "noop", "description": "no-op", "input_schema": {"type": "object"}}],
        messages=[
            {"role": "user", "content": "first turn"},
            {"role": "assistant", "content": "ok"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>x</system-reminder>"},
                    {"type": "text", "text": "this is the second turn"},
                ],
            },
        ],
        extra_query={"beta": "true"},
    )
    assert msg.content[0].type == "text"
    assert msg.content[0].text == "matched last user message"
    req = fake.requests[-1]
    assert req["path"] == "/v1/messages?beta=true"
    assert req["text"] == "<system-reminder>x</system-reminder>\nthis is the second turn"


def test_named_group_substitution_and_first_rule_wins(fake: FakeAnthropic) -> None:
    fake.add_reply(r"greet (?P<who>\w+)(?: from (?P<place>\w+))?", "Hello $who from ${place}!")
    fake.add_reply(r"greet", "never used")
    client = client_for(fake)
    assert ask(client, "please greet Ada from London") == "Hello Ada from London!"
    # Unmatched optional group becomes empty; unknown $names stay literal.
    assert ask(client, "greet Bob") == "Hello Bob from !"
    fake.add_reply(r"cost", "costs $dollars")
    assert ask(client, "what does it cost") == "costs $dollars"


def test_default_and_reply_fn(fake: FakeAnthropic) -> None:
    client = client_for(fake)
    assert ask(client, "anything") != ""
    fake.set_default("fallback")
    fake.add_reply("special", "rule")
    assert ask(client, "nothing matches") == "fallback"

    seen: list[str] = []

    def reply_fn(body: dict[str, object]) -> str | None:
        seen.append(str(body["model"]))
        return "from fn" if body.get("max_tokens") == 7 else None

    fake.reply_fn = reply_fn
    msg = client.messages.create(
        model=MODEL, max_tokens=7, messages=[{"role": "user", "content": "special"}]
    )
    assert msg.content[0].type == "text" and msg.content[0].text == "from fn"
    assert ask(client, "special") == "rule"  # fn returned None -> rules apply
    assert seen == [MODEL, MODEL]


def test_sync_streaming(fake: FakeAnthropic) -> None:
    reply = "The quick brown fox jumps over the lazy dog."
    fake.add_reply("fox", reply)
    client = client_for(fake)
    event_types: list[str] = []
    with client.messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "fox please"}]
    ) as stream:
        for event in stream:
            event_types.append(event.type)
        final = stream.get_final_message()
    text_events = event_types.count("text")
    assert text_events >= 3
    assert event_types[0] == "message_start"
    assert event_types[-1] == "message_stop"
    assert "content_block_start" in event_types and "content_block_stop" in event_types
    assert final.content[0].type == "text" and final.content[0].text == reply
    assert final.stop_reason == "end_turn"
    assert final.model == MODEL
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 1
    assert fake.requests[-1]["json"]["stream"] is True


def test_async_streaming(fake: FakeAnthropic) -> None:
    fake.add_reply(r"count to (?P<n>\d+)", "1 2 3 ... $n")

    async def run() -> tuple[str, int]:
        client = anthropic.AsyncAnthropic(api_key="test", base_url=fake.url, max_retries=0)
        async with client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "count to 10"}]
        ) as stream:
            chunks = [piece async for piece in stream.text_stream]
            final = await stream.get_final_message()
        await client.close()
        assert len(chunks) > 1
        return "".join(chunks), final.usage.output_tokens

    text, output_tokens = asyncio.run(run())
    assert text == "1 2 3 ... 10"
    assert output_tokens > 0


def test_rate_limit_with_retry_after(fake: FakeAnthropic) -> None:
    fake.inject(429, retry_after=7, message="slow down")
    client = client_for(fake)
    with pytest.raises(anthropic.RateLimitError) as info:
        ask(client, "hi")
    err = info.value
    assert err.status_code == 429
    assert err.response.headers["retry-after"] == "7"
    assert isinstance(err.body, dict)
    assert err.body["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert err.response.headers["request-id"].startswith("req_")


def test_overloaded_529(fake: FakeAnthropic) -> None:
    fake.inject(529)
    client = client_for(fake)
    with pytest.raises(anthropic.APIStatusError) as info:
        ask(client, "hi")
    err = info.value
    assert err.status_code == 529
    assert isinstance(err, anthropic.OverloadedError)
    assert isinstance(err, anthropic.InternalServerError)
    assert isinstance(err.body, dict) and err.body["error"]["type"] == "overloaded_error"
    assert "retry-after" not in err.response.headers


def test_authentication_401_and_other_statuses(fake: FakeAnthropic) -> None:
    fake.inject(401)
    fake.inject(403)
    fake.inject(400, message="bad")
    fake.inject(500)
    client = client_for(fake)
    with pytest.raises(anthropic.AuthenticationError) as auth:
        ask(client, "hi")
    assert isinstance(auth.value.body, dict)
    assert auth.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.PermissionDeniedError):
        ask(client, "hi")
    with pytest.raises(anthropic.BadRequestError) as bad:
        ask(client, "hi")
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["error"] == {"type": "invalid_request_error", "message": "bad"}
    with pytest.raises(anthropic.InternalServerError) as ise:
        ask(client, "hi")
    assert isinstance(ise.value.body, dict) and ise.value.body["error"]["type"] == "api_error"


def test_faults_fifo_then_normal_and_calls(fake: FakeAnthropic) -> None:
    fake.add_reply("ping", "pong")
    fake.inject(429, retry_after=1)
    fake.inject(529, count=2)
    client = client_for(fake)
    with pytest.raises(anthropic.RateLimitError):
        ask(client, "ping 1")
    for i in (2, 3):
        with pytest.raises(anthropic.OverloadedError):
            ask(client, f"ping {i}")
    assert ask(client, "ping 4") == "pong"
    assert ask(client, "other") != "pong"

    assert [r["fault_status"] for r in fake.requests] == [429, 529, 529, None, None]
    assert fake.calls() == 2
    assert fake.calls(include_faults=True) == 5
    assert fake.calls("ping") == 1
    assert fake.calls(r"ping [23]", include_faults=True) == 2
    assert fake.calls("nomatch", include_faults=True) == 0


def test_fault_on_streaming_request(fake: FakeAnthropic) -> None:
    fake.inject(529)
    client = client_for(fake)
    with (
        pytest.raises(anthropic.OverloadedError),
        client.messages.stream(
            model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}]
        ) as stream,
    ):
        stream.until_done()
    with client.messages.stream(
        model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        assert stream.get_final_text() != ""


def test_latency_and_wait_for_requests(fake: FakeAnthropic) -> None:
    fake.latency(0.6)
    fake.add_reply("slow", "done")
    client = client_for(fake)
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(ask(client, "slow one")))
    started = time.monotonic()
    worker.start()
    # Recorded at arrival, before the latency elapses.
    assert fake.wait_for_requests(1, timeout=5, pattern="slow")
    assert time.monotonic() - started < 0.6
    assert results == []
    worker.join(timeout=10)
    assert results == ["done"]
    assert time.monotonic() - started >= 0.6
    assert not fake.wait_for_requests(2, timeout=0.1)
    assert not fake.wait_for_requests(1, timeout=0.05, pattern="fast")


def test_count_tokens_and_unknown_path(fake: FakeAnthropic) -> None:
    client = client_for(fake)
    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "hello " * 40}]
    )
    assert counted.input_tokens > 10
    with pytest.raises(anthropic.NotFoundError) as info:
        client.models.list()
    assert isinstance(info.value.body, dict)
    assert info.value.body["type"] == "error"
    assert info.value.body["error"]["type"] == "not_found_error"
    assert fake.calls(include_faults=True) == 0  # neither is a /v1/messages call


def test_reset(fake: FakeAnthropic) -> None:
    fake.add_reply("a", "rule")
    fake.set_default("custom default")
    fake.inject(429, count=3)
    client = client_for(fake)
    with pytest.raises(anthropic.RateLimitError):
        ask(client, "a")
    fake.latency(5)
    fake.reset()
    assert fake.requests == []
    started = time.monotonic()
    text = ask(client, "a")
    assert text not in ("rule", "custom default")
    assert time.monotonic() - started < 2
    assert fake.calls() == 1


def test_client_disconnect_mid_stream_is_quiet(
    fake: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_reply("long", "word " * 50)
    fake.latency(0, chunk_delay=0.05)
    client = client_for(fake)
    with client.messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "long"}]
    ) as stream:
        for event in stream:
            if event.type == "text":
                break  # leaving the context closes the connection mid-stream
    time.sleep(0.4)  # let the server hit the broken pipe
    fake.latency(0)
    assert ask(client, "again") != ""
    assert "Traceback" not in capsys.readouterr().err


def test_stop_releases_waiting_client() -> None:
    fake = FakeAnthropic().start()
    fake.latency(30)
    client = client_for(fake, timeout=20)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            ask(client, "hang")
        except anthropic.APIConnectionError as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert fake.wait_for_requests(1, timeout=5)
    started = time.monotonic()
    fake.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert len(errors) == 1


def test_standalone_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_SCRIPT), "--port", "0", "--reply", r"name is (?P<n>\w+)=Hi $n"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        url = lines.get(timeout=15).strip()
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        client = anthropic.Anthropic(api_key="test", base_url=url, max_retries=0)
        msg = client.messages.create(
            model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "my name is Zed"}]
        )
        assert msg.content[0].type == "text" and msg.content[0].text == "Hi Zed"
        client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
