"""ask_model, sleep and the durations rule in workflow code (in-process, time skipping).

The model is ``JsonModel``: the engine's FakeModel, answering JSON to prompts that
start with ``json:``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_model import FakeModel
from flow_workflows import FlowInput
from harness import Engine, failure

from sagaflow._engine import meta
from sagaflow.models import ModelReply

REPLIES = {
    "json: score": '{"score": 7, "tags": ["a", "b"]}',
    "json: verdict": 'Here it is:\n```json\n{"score": 3, "reason": "fine"}\n```',
    "json: big score": '{"score": 12}',
}


@dataclass
class JsonModel(FakeModel):
    async def __call__(self, transport: str, *, model: str, system: str, user: str,
                       max_tokens: int, skill_dir: Path | None = None) -> ModelReply:
        reply = await super().__call__(transport, model=model, system=system, user=user,
                                       max_tokens=max_tokens, skill_dir=skill_dir)
        if user in REPLIES:
            return ModelReply(text=REPLIES[user], model=model, transport=transport,
                              usage=reply.usage)
        return reply


def run_case(engine: Engine, case: str, **args: Any) -> Any:
    engine.model = JsonModel()

    async def scenario(e: Engine) -> Any:
        return await (await e.start("t-flow", FlowInput(case, args))).result()

    return engine.run(scenario)


def test_ask_model_text_sends_the_prompt_inline_and_returns_the_reply(engine: Engine) -> None:
    assert run_case(engine, "ask_text", prompt="tell me") == (
        "STRUCTURED_OUTPUT_START\nRESULT|1\nSTRUCTURED_OUTPUT_END")
    call = engine.model.calls[0]
    assert (call["user"], call["system"]) == ("tell me", "be brief")


def test_ask_model_dict_returns_the_structured_block_and_asks_for_it(engine: Engine) -> None:
    assert run_case(engine, "ask_dict") == {"RESULT": "1"}
    assert "STRUCTURED_OUTPUT_START" in engine.model.calls[0]["system"]


def test_ask_model_schema_returns_the_json_value_with_its_types(engine: Engine) -> None:
    assert run_case(engine, "ask_schema") == {"score": 7, "tags": ["a", "b"]}
    assert '"score"' in engine.model.calls[0]["system"]  # the schema went to the model


def test_ask_model_pydantic_class_returns_a_validated_instance(engine: Engine) -> None:
    assert run_case(engine, "ask_model_class") == {"score": 3, "reason": "fine"}


def test_a_reply_the_pydantic_model_refuses_fails_the_run_in_one_line(engine: Engine) -> None:
    engine.model = JsonModel()

    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("ask_invalid", {}))
        reason = await failure(handle)
        assert reason.startswith("The model's reply for role scorer does not fit SmallScore: "
                                 "score Value error, score must be below 10"), reason
        assert "\n" not in reason

    engine.run(scenario)


def test_ask_model_is_one_step_with_the_tier_policy_and_usage_recorded(engine: Engine) -> None:
    engine.model = JsonModel()

    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("ask_text", {}))
        await handle.result()
        assert [s.activity_type.name for s in await e.scheduled(handle, "write_artifact")] == []
        (step,) = await e.scheduled(handle, meta.SPAWN_SUBAGENT)
        assert step.retry_policy.maximum_attempts == 6  # SONNET_POLICY
        assert step.retry_policy.maximum_interval.seconds == 60
        assert step.start_to_close_timeout.seconds == 600
        status = await e.status(handle)
        assert status.model_calls == 1 and status.spent_usd == pytest.approx(0.4)

    engine.run(scenario)


@pytest.mark.parametrize(("args", "reason"), [
    ({"temprature": 1}, "ask_model() got an unexpected keyword argument 'temprature'"),
    ({"tier": "gpt"}, "tier must be one of haiku, sonnet or opus, not 'gpt'."),
    ({"timeout": "10m"}, "timeout must be seconds (int or float) or a datetime.timedelta, "
                         "not str '10m'."),
    ({"output": "json"}, "output must be str, dict, a JSON-schema dict or a pydantic model "
                         "class, not 'json'."),
    ({"max_tokens": 0}, "max_tokens must be a positive int, not 0."),
])
def test_ask_model_bad_input_fails_the_run_with_one_sentence(
    engine: Engine, args: dict[str, Any], reason: str
) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("ask_bad", args))
        assert await failure(handle) == reason
        assert (await e.entry(handle.id, "FAILED")).summary == reason
        assert not e.model.calls  # refused before any model call

    engine.run(scenario)


def test_sleep_takes_seconds_and_timedeltas_on_durable_timers(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("sleep", {"seconds": 90}))
        assert await handle.result() == pytest.approx(2 * 3600 + 90, abs=5)
        fired = await e.events(handle, 17)  # EVENT_TYPE_TIMER_FIRED
        assert len(fired) == 2

    engine.run(scenario)


@pytest.mark.parametrize(("duration", "reason"), [
    ("5m", "duration must be seconds (int or float) or a datetime.timedelta, not str '5m'."),
    (True, "duration must be seconds (int or float) or a datetime.timedelta, not bool True."),
    (-1, "duration must be longer than zero, not -1s."),
    (None, "duration must be seconds (int or float) or a datetime.timedelta, not NoneType "
           "None."),
])
def test_sleep_refuses_what_is_not_a_duration(engine: Engine, duration: Any, reason: str) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("sleep_bad", {"duration": duration}))
        assert await failure(handle) == reason

    engine.run(scenario)


def test_wait_for_signal_with_a_timedelta_returns_the_signal(engine: Engine) -> None:
    """The issue's report: ``timeout=timedelta(...)`` failed the run (``timedelta(seconds=
    timedelta)`` raised TypeError in the wait) once the run waited for the signal."""
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("signal_timedelta", {}))
        await e.until(handle, lambda s: "go" in s.signals_waiting)
        await handle.signal("go", {"ok": True})
        assert await handle.result() == {"ok": True}

    engine.run(scenario)


def test_wait_for_signal_timedelta_timeout_names_it_in_seconds(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("signal_times_out", {}))
        assert await failure(handle) == "no 'never' signal within 300s"

    engine.run(scenario)


def test_approval_gate_timeout_takes_a_timedelta(engine: Engine) -> None:
    assert run_case(engine, "gate_timedelta") == [
        True, "timeout", "no decision within 300s; default: approve"]
