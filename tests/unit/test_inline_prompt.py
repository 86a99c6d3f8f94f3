"""spawn_subagent's inline prompt and reply shapes (what ask_model sends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagaflow._engine.model_call import _check_shape, _reply_output, reply_problem
from sagaflow._engine.seeds import SpawnSubagentInput
from sagaflow.errors import PromptError
from sagaflow.models import ModelReply


def _inp(**kw: Any) -> SpawnSubagentInput:
    return SpawnSubagentInput(role="judge", tier_name="HAIKU", system_prompt="", **kw)


def test_old_inputs_with_a_path_still_validate() -> None:
    _check_shape(_inp(user_prompt_path="p.txt"))
    _check_shape(_inp(user_prompt="inline", reply_as="text"))


@pytest.mark.parametrize(("kw", "message"), [
    ({}, "Step judge gives neither user_prompt and user_prompt_path; give exactly one."),
    ({"user_prompt": "a", "user_prompt_path": "p"},
     "Step judge gives both user_prompt and user_prompt_path; give exactly one."),
    ({"user_prompt": "a", "reply_as": "yaml"},
     "Step judge: reply_as 'yaml' is not one of '', 'text' or 'json'."),
    ({"user_prompt": "a", "reply_as": "json"}, "Step judge: reply_as 'json' needs an output_schema."),
])
def test_a_step_without_exactly_one_prompt_fails_without_retry(
    kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(PromptError) as info:
        _check_shape(_inp(**kw))
    assert info.value.message == message and not info.value.retryable


def test_reply_as_text_and_json_shape_the_output() -> None:
    assert _reply_output(_inp(user_prompt="a", reply_as="text"), "hi\nthere") == {"text": "hi\nthere"}
    schema_step = _inp(user_prompt="a", reply_as="json", output_schema={"type": "object"})
    assert _reply_output(schema_step, '```json\n{"n": 1}\n```') == {"json": '{"n": 1}'}


def test_a_text_reply_cut_at_max_tokens_is_a_problem(tmp_path: Path) -> None:
    cut = ModelReply(text="half a sen", model="m", transport="anthropic", stop_reason="max_tokens")
    problem = reply_problem(cut, _inp(user_prompt="a", reply_as="text"), tmp_path / "r.md")
    assert problem is not None and not problem.retryable
    assert "before finishing its reply" in problem.message and "max_tokens=4096" in problem.message
