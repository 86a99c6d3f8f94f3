"""Tests for sagaflow.models (transport choice, scripted replies, the Anthropic transport)."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import sagaflow.models.anthropic_api as anthropic_api
from sagaflow._engine.activities import to_application_error
from sagaflow.config import Settings
from sagaflow.errors import (
    ModelError,
    PromptError,
    SagaflowError,
    TemporalError,
    TransportError,
)
from sagaflow.models import ModelReply, choose_transport, complete, preflight, scripted

try:
    from fake_anthropic import FakeAnthropic
except ImportError:  # pragma: no cover - when tests/ is a package
    from tests.fake_anthropic import FakeAnthropic  # type: ignore[no-redef,import-untyped,unused-ignore]

MODEL = "claude-test-model"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with nothing on it (so no ``claude`` CLI)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def fake_claude(directory: Path) -> Path:
    exe = directory / "claude"
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return exe


# --- choose_transport ----------------------------------------------------------


@pytest.mark.parametrize("name", ["anthropic", "claude", "scripted"])
def test_explicit_transport_from_settings(name: str, empty_path: Path) -> None:
    # An explicit choice is returned as is, even if it could not work here.
    assert choose_transport(Settings(transport=name)) == name


def test_requested_beats_settings(empty_path: Path) -> None:
    assert choose_transport(Settings(transport="anthropic"), "Scripted") == "scripted"


def test_unknown_transport(empty_path: Path) -> None:
    with pytest.raises(TransportError, match="'pigeon'"):
        choose_transport(Settings(), "pigeon")


@pytest.mark.parametrize("var", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
def test_auto_with_key_is_anthropic(
    var: str, empty_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(var, "sk-test")
    assert choose_transport(Settings(transport="auto")) == "anthropic"
    assert choose_transport(Settings(transport="claude"), "auto") == "anthropic"


def test_auto_with_claude_cli(empty_path: Path) -> None:
    fake_claude(empty_path)
    assert choose_transport(Settings()) == "claude"


def test_auto_key_beats_claude_cli(empty_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_claude(empty_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert choose_transport(Settings()) == "anthropic"


def test_auto_with_nothing_is_transport_error(empty_path: Path) -> None:
    with pytest.raises(TransportError) as info:
        choose_transport(Settings(transport="auto"))
    message = str(info.value)
    assert "ANTHROPIC_API_KEY" in message
    assert "scripted" in message


def test_empty_key_does_not_count(empty_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    with pytest.raises(TransportError):
        choose_transport(Settings())


# --- preflight -----------------------------------------------------------------


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "skill"
    directory.mkdir()
    (directory / "replies.yaml").write_text(
        """
replies:
  - match: "Greet (?P<name>.+)"
    reply: |
      STRUCTURED_OUTPUT_START
      GREETING|hello, $name (${name}) costs $$5
      STRUCTURED_OUTPUT_END
  - in: system
    match: "You are a (?P<role>\\\\w+)"
    reply: "acting as $role; unknown $missing stays"
  - match: "optional(?P<opt> group)?"
    reply: "opt=[$opt]"
  - match: "Greet"
    reply: "never reached for greetings with a name"
""",
        encoding="utf-8",
    )
    return directory


def test_preflight_scripted_with_replies(skill_dir: Path) -> None:
    preflight("scripted", skill_dir)


def test_preflight_scripted_without_replies(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as info:
        preflight("scripted", tmp_path)
    assert str(tmp_path / "replies.yaml") in str(info.value)
    with pytest.raises(TransportError, match=r"replies\.yaml"):
        preflight("scripted", None)


def test_preflight_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TransportError, match="ANTHROPIC_API_KEY"):
        preflight("anthropic", None)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok")
    preflight("anthropic", None)


def test_preflight_claude(empty_path: Path) -> None:
    with pytest.raises(TransportError, match="claude CLI"):
        preflight("claude", None)
    fake_claude(empty_path)
    preflight("claude", None)


# --- scripted ------------------------------------------------------------------


def test_scripted_named_group_substitution(skill_dir: Path) -> None:
    reply = scripted.call(skill_dir=skill_dir, model="m", system="sys", user="Please Greet  alice  ")
    assert reply.transport == "scripted"
    assert reply.model == "scripted"
    assert reply.usage == {}
    assert "GREETING|hello, alice (alice) costs $5" in reply.text
    assert reply.text.startswith("STRUCTURED_OUTPUT_START")


def test_scripted_matches_system_prompt_and_keeps_unknown_placeholders(skill_dir: Path) -> None:
    reply = scripted.call(
        skill_dir=skill_dir, model="m", system="You are a critic.", user="no rule matches this"
    )
    assert reply.text == "acting as critic; unknown $missing stays"


def test_scripted_unmatched_optional_group(skill_dir: Path) -> None:
    reply = scripted.call(skill_dir=skill_dir, model="m", system="", user="optional")
    assert reply.text == "opt=[$opt]"
    reply = scripted.call(skill_dir=skill_dir, model="m", system="", user="optional group")
    assert reply.text == "opt=[group]"


def test_scripted_no_match_is_non_retryable(skill_dir: Path) -> None:
    with pytest.raises(ModelError) as info:
        scripted.call(skill_dir=skill_dir, model="m", system="sys", user="Say goodbye\nline 2")
    assert info.value.retryable is False
    assert "'Say goodbye'" in str(info.value)
    assert "replies.yaml" in str(info.value)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("replies: {}\n", "'replies:' list"),
        ("- just a list\n", "'replies:' list"),
        ("replies: [unclosed\n", "not valid YAML"),
        ('replies:\n  - match: "(unclosed"\n    reply: x\n', "Bad regex"),
    ],
)
def test_scripted_bad_files_are_non_retryable(tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "replies.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as info:
        scripted.call(skill_dir=tmp_path, model="m", system="", user="anything")
    assert info.value.retryable is False
    assert fragment in str(info.value)


def test_scripted_missing_file_or_dir(tmp_path: Path) -> None:
    for directory in (tmp_path, None):
        with pytest.raises(ModelError) as info:
            scripted.call(skill_dir=directory, model="m", system="", user="x")
        assert info.value.retryable is False


def test_complete_dispatches_to_scripted(skill_dir: Path) -> None:
    reply = asyncio.run(
        complete(
            "scripted", model="m", system="s", user="Greet bob", max_tokens=10,
            skill_dir=skill_dir,
        )
    )
    assert isinstance(reply, ModelReply)
    assert "hello, bob" in reply.text


def test_complete_unknown_transport() -> None:
    with pytest.raises(TransportError):
        asyncio.run(complete("pigeon", model="m", system="s", user="u", max_tokens=1))


# --- anthropic transport against the loopback fake -----------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-fake")
        monkeypatch.setattr(anthropic_api, "_client", None)
        yield server


def call_api(user: str = "hi", system: str = "You are terse.") -> ModelReply:
    """One call in a fresh event loop; the cached client is closed and dropped after."""

    async def run() -> ModelReply:
        try:
            return await anthropic_api.call(model=MODEL, system=system, user=user, max_tokens=64)
        finally:
            await anthropic_api.client().close()
            anthropic_api._client = None

    return asyncio.run(run())


def api_error(status: int) -> ModelError:
    with pytest.raises(ModelError) as info:
        call_api()
    assert info.value.status == status
    return info.value


def test_streamed_reply_returns_text_and_usage(fake: FakeAnthropic) -> None:
    fake.add_reply(r"greet (?P<who>\w+)", "Hello there, $who! " * 5)
    reply = call_api("please greet alice", system="You greet people.")
    assert reply.text == "Hello there, alice! " * 5
    assert reply.transport == "anthropic"
    assert reply.model == MODEL
    assert reply.usage["input_tokens"] > 0
    assert reply.usage["output_tokens"] > 1
    assert reply.usage["cache_creation_input_tokens"] == 0
    assert reply.usage["cache_read_input_tokens"] == 0
    (request,) = fake.requests
    assert request["json"]["stream"] is True
    assert request["json"]["system"] == "You greet people."
    assert request["json"]["max_tokens"] == 64
    # the key from the environment reached the server (header name varies by SDK version)
    assert any("sk-test-fake" in value for value in request["headers"].values())


def test_client_is_cached_and_has_no_sdk_retries(fake: FakeAnthropic) -> None:
    async def run() -> None:
        first = anthropic_api.client()
        assert anthropic_api.client() is first
        assert first.max_retries == 0
        await first.close()

    asyncio.run(run())
    anthropic_api._client = None


def test_sdk_does_not_retry_on_its_own(fake: FakeAnthropic) -> None:
    fake.inject(529)
    api_error(529)
    assert fake.calls(include_faults=True) == 1


def test_complete_dispatches_to_anthropic(fake: FakeAnthropic) -> None:
    fake.add_reply("ping", "pong")

    async def run() -> ModelReply:
        try:
            return await complete("anthropic", model=MODEL, system="s", user="ping", max_tokens=8)
        finally:
            await anthropic_api.client().close()
            anthropic_api._client = None

    assert asyncio.run(run()).text == "pong"


def test_401_is_not_retryable(fake: FakeAnthropic) -> None:
    fake.inject(401, message="invalid x-api-key")
    err = api_error(401)
    assert err.retryable is False
    assert "HTTP 401" in str(err)
    assert "invalid x-api-key" in str(err)
    assert "authentication_error" in str(err)
    assert "ANTHROPIC_API_KEY" in str(err)
    assert err.retry_after is None


def test_429_with_retry_after(fake: FakeAnthropic) -> None:
    fake.inject(429, retry_after=7, message="slow down")
    err = api_error(429)
    assert err.retryable is True
    assert err.retry_after == 7
    assert "slow down" in str(err)


def test_429_without_retry_after(fake: FakeAnthropic) -> None:
    fake.inject(429)
    err = api_error(429)
    assert err.retryable is True
    assert err.retry_after is None


@pytest.mark.parametrize("status", [529, 500, 502, 503])
def test_server_errors_are_retryable(fake: FakeAnthropic, status: int) -> None:
    fake.inject(status)
    err = api_error(status)
    assert err.retryable is True
    assert f"HTTP {status}" in str(err)


@pytest.mark.parametrize("status", [400, 403, 404, 413])
def test_client_errors_are_not_retryable(fake: FakeAnthropic, status: int) -> None:
    fake.inject(status, message=f"injected {status}")
    err = api_error(status)
    assert err.retryable is False
    assert f"injected {status}" in str(err)


def test_recovers_after_fault(fake: FakeAnthropic) -> None:
    fake.add_reply("again", "fine now")
    fake.inject(529)
    api_error(529)
    assert call_api("again").text == "fine now"


def test_unreachable_server_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port any more: connection refused
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setattr(anthropic_api, "_client", None)
    with pytest.raises(ModelError) as info:
        call_api()
    assert info.value.retryable is True
    assert info.value.status is None
    assert "ANTHROPIC_BASE_URL" in str(info.value)


def test_classify_unknown_exception_is_retryable() -> None:
    err = anthropic_api.classify(RuntimeError("weird"))
    assert err.retryable is True
    assert "RuntimeError: weird" in str(err)


# --- to_application_error ------------------------------------------------------


def test_application_error_retryable_with_delay() -> None:
    app = to_application_error(
        ModelError("rate limited", retryable=True, status=429, retry_after=7)
    )
    assert app.message == "rate limited"
    assert app.type == "ModelError"
    assert app.non_retryable is False
    assert app.next_retry_delay == timedelta(seconds=7)


def test_application_error_fractional_delay() -> None:
    app = to_application_error(ModelError("x", retryable=True, retry_after=1.5))
    assert app.next_retry_delay == timedelta(seconds=1.5)


def test_application_error_non_retryable() -> None:
    app = to_application_error(ModelError("bad key", retryable=False, status=401))
    assert app.non_retryable is True
    assert app.next_retry_delay is None
    assert app.type == "ModelError"


@pytest.mark.parametrize(
    "exc, non_retryable",
    [
        (PromptError("missing $x"), True),
        (TemporalError("unreachable"), False),
        (SagaflowError("generic"), True),
        (SagaflowError("forced", retryable=True), False),
        (ModelError("zero delay", retryable=True, retry_after=0), False),
    ],
)
def test_application_error_follows_retryable_flag(exc: SagaflowError, non_retryable: bool) -> None:
    app = to_application_error(exc)
    assert app.non_retryable is non_retryable
    assert app.type == type(exc).__name__
    assert app.message == exc.message
    assert app.next_retry_delay is None


def test_environment_untouched_by_fixture_teardown() -> None:
    # Sanity: the autouse fixture removed real credentials for every test here.
    assert "ANTHROPIC_API_KEY" not in os.environ
