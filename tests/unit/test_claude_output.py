"""``claude -p --output-format json`` output shapes (recorded from Claude Code 2.1.330,
trimmed) and what the transport makes of them (issue 8, item 11)."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from sagaflow.errors import ModelError
from sagaflow.models import claude_cli
from sagaflow.models.claude_cli import check_output, parse_output

TEXT = "STRUCTURED_OUTPUT_START\nX|1\nSTRUCTURED_OUTPUT_END"
USAGE = {"input_tokens": 10566, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
         "output_tokens": 13, "output_tokens_details": {"thinking_tokens": 0}}
#: `claude -p --output-format json`, success
OBJECT = {"duration_api_ms": 104, "stop_reason": "end_turn", "session_id": "8906",
          "total_cost_usd": 0.0106, "usage": USAGE, "is_error": False, "num_turns": 1,
          "subtype": "success", "api_error_status": None, "result": TEXT, "type": "result"}
#: the same with --verbose: an array of events, the result last
ARRAY = [
    {"type": "system", "subtype": "init", "session_id": "5317", "model": "claude-haiku-4-5",
     "claude_code_version": "2.1.330"},
    {"type": "assistant", "message": {"role": "assistant", "stop_reason": "end_turn",
                                      "content": [{"type": "text", "text": TEXT}]}},
    {"type": "result", "subtype": "success", "is_error": False, "result": TEXT, "usage": USAGE},
]
#: no key, not logged in: exit 1
NOT_LOGGED_IN = {"stop_reason": "stop_sequence", "total_cost_usd": 0, "usage": {},
                 "terminal_reason": "api_error", "is_error": True, "num_turns": 1,
                 "subtype": "success", "result": "Not logged in · Please run /login",
                 "type": "result"}


def test_object_shape() -> None:
    out = parse_output(json.dumps(OBJECT))
    assert out.parsed and not out.is_error and out.text == TEXT
    assert out.stop_reason == "end_turn"
    assert out.usage == {"input_tokens": 10566, "output_tokens": 13,
                         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    check_output(out, 0, "")


def test_array_of_events_shape() -> None:
    out = parse_output(json.dumps(ARRAY))
    assert out.parsed and out.text == TEXT and out.usage and out.usage["output_tokens"] == 13
    assert out.stop_reason == "end_turn"  # from the assistant event: the result has none
    check_output(out, 0, "")


def test_error_subtype_is_an_error() -> None:
    out = parse_output(json.dumps({"type": "result", "subtype": "error_during_execution",
                                   "result": ""}))
    assert out.is_error
    with pytest.raises(ModelError) as info:
        check_output(out, 0, "")
    assert info.value.retryable


def test_turn_limit_is_not_retried() -> None:
    """A session that ran out of turns would run out again: fail once, say how to fix."""
    out = parse_output(json.dumps({"type": "result", "subtype": "error_max_turns", "result": ""}))
    with pytest.raises(ModelError) as info:
        check_output(out, 0, "")
    assert not info.value.retryable and "--max-turns" in str(info.value)


@pytest.mark.parametrize("result, status, retryable", [
    ('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"x"}}',
     529, True),
    ('API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"x"}}',
     400, False),
    ("API Error: request failed", 404, False),  # no type named: the status picks it
    ("API Error: request failed", 429, True),
])
def test_api_errors_are_classified_by_type(result: str, status: int, retryable: bool) -> None:
    """Claude Code reports the API's fault in its result: classified as the anthropic
    transport classifies it (a 400 used to be retried six times, each one paid)."""
    raw = json.dumps(dict(OBJECT, is_error=True, result=result, api_error_status=status))
    with pytest.raises(ModelError) as info:
        check_output(parse_output(raw), 1, "")
    assert info.value.retryable is retryable and "claude -p's model call failed" in str(info.value)


@pytest.mark.parametrize("raw, code, stderr", [
    (json.dumps(NOT_LOGGED_IN), 1, ""),
    ("Invalid API key · Please run /login\n", 1, ""),
    ("", 1, "Error: Invalid API key"),
])
def test_auth_errors_fail_at_once_with_the_fix(raw: str, code: int, stderr: str) -> None:
    with pytest.raises(ModelError) as info:
        check_output(parse_output(raw), code, stderr)
    assert info.value.retryable is False
    assert "/login" in str(info.value) and "will retry" not in str(info.value)


@pytest.mark.parametrize("raw", ["", "   \n", "Hello, I am plain text.", "[1, 2, 3]"])
def test_empty_or_unparseable_output_is_an_error(raw: str) -> None:
    with pytest.raises(ModelError) as info:
        check_output(parse_output(raw), 0, "")
    assert info.value.retryable is True
    assert "claude -p printed" in str(info.value)


def test_empty_result_text_reaches_the_step_as_empty() -> None:
    out = parse_output(json.dumps(dict(OBJECT, result="")))
    check_output(out, 0, "")  # parsed fine; the model step calls an empty reply an error
    assert out.text == ""


def _script(tmp_path: Path, body: str) -> None:
    exe = tmp_path / "claude"
    exe.write_text(f"#!/bin/sh\ncat >/dev/null\n{body}\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def _call() -> object:
    return asyncio.run(claude_cli.call(model="m", system="s", user="u", max_tokens=10))


def test_call_parses_an_array_from_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out.json").write_text(json.dumps(ARRAY), encoding="utf-8")
    _script(tmp_path, f"cat {tmp_path / 'out.json'}")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    reply = _call()
    assert getattr(reply, "text", None) == TEXT
    assert getattr(reply, "stop_reason", None) == "end_turn"


def test_call_login_error_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out.json").write_text(json.dumps(NOT_LOGGED_IN), encoding="utf-8")
    _script(tmp_path, f"cat {tmp_path / 'out.json'}; exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(ModelError) as info:
        _call()
    assert info.value.retryable is False and "Not logged in" in str(info.value)
