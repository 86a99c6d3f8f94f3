"""``spawn_subagent(..., tools_needed=True)`` in Temporal's activity environment (a real
activity context, no server) with a fake turn-by-turn model: the tool loop, its resume
from the transcript after a failed attempt (no paid turn asked again, no completed tool
call run again), the schema repair turn continuing the conversation, and the turn cap."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from sagaflow._engine import tool_step
from sagaflow._engine.activities import SagaflowActivities
from sagaflow._engine.meta import RunConfig
from sagaflow._engine.seeds import SpawnSubagentInput
from sagaflow.errors import ModelError
from sagaflow.models.turns import TurnReply
from sagaflow.paths import Home

RUN = "legacy-20260101-000000-tools1"
SCHEMA = {"type": "object", "properties": {"N": {"type": "integer"}}, "required": ["N"]}


class Turns:
    """Assistant turns by turn number; ``fail_once`` turns raise a retryable error first."""

    def __init__(self, turns: dict[int, list[dict[str, Any]]],
                 fail_once: frozenset[int] = frozenset()) -> None:
        self.turns, self.fail_once = turns, set(fail_once)
        self.asked: list[int] = []
        self.last_messages: list[dict[str, Any]] = []

    async def __call__(self, transport: str, *, model: str, system: str,
                       messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                       max_tokens: int, skill_dir: Path | None = None) -> TurnReply:
        turn = 1 + sum(m["role"] == "assistant" for m in messages)
        assert {t["name"] for t in tools} >= {"Read", "Bash"} and "OUTPUT FORMAT" in system
        if turn in self.fail_once:
            self.fail_once.discard(turn)
            raise ModelError("overloaded; will retry", retryable=True)
        self.asked.append(turn)
        self.last_messages = messages
        return TurnReply(content=self.turns[turn], model=model, transport="anthropic",
                         usage={"input_tokens": 100, "output_tokens": 10},
                         stop_reason="tool_use" if turn in (1,) else "end_turn")


def _env(attempt: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=RUN, attempt=attempt,
                                   activity_id="7")
    return env


async def _step(home: Home, fake: Turns, workspace: Path, attempt: int = 1) -> Any:
    run_dir = home.run_dir(RUN)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "p.txt").write_text("Read the target file target.txt.")
    acts = SagaflowActivities(home, converse=fake)
    config = RunConfig(transport="anthropic", models={"HAIKU": "m"}, workspace=str(workspace),
                       permissions={"allow": ["Bash(echo side:*)"]})
    step = SpawnSubagentInput(role="reviewer", tier_name="HAIKU", system_prompt="S",
                              user_prompt_path="p.txt", output_schema=SCHEMA,
                              tools_needed=True)
    return await _env(attempt).run(acts.spawn_subagent, step, config)


TOOLS_THEN_ANSWER = {
    1: [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "target.txt"}},
        {"type": "tool_use", "id": "t2", "name": "Bash",
         "input": {"command": "echo side >> side.txt"}}],
    2: [{"type": "text", "text": '{"N": 42}'}],
}


async def _resumes_without_repaying_or_rerunning(home: Home, ws: Path) -> None:
    (ws / "target.txt").write_text("the answer is 42\n")
    fake = Turns(TOOLS_THEN_ANSWER, fail_once={2})
    with pytest.raises(ApplicationError) as info:
        await _step(home, fake, ws)
    assert not info.value.non_retryable
    result = await _step(home, fake, ws, attempt=2)
    assert result.output == {"N": "42"}
    assert fake.asked == [1, 2]  # turn 1 was reused from the transcript, not asked again
    assert (ws / "side.txt").read_text() == "side\n"  # the Bash call ran once
    results = fake.last_messages[2]["content"]
    assert "the answer is 42" in results[0]["content"] and "is_error" not in results[0]
    assert result.usage.input_tokens == 200 and result.usage.retried_cost_usd == 0.0


async def _repair_turn_continues_the_conversation(home: Home, ws: Path) -> None:
    turns = {1: [{"type": "text", "text": '{"N": "many"}'}],
             2: [{"type": "text", "text": '{"N": 3}'}]}
    fake = Turns(turns)
    result = await _step(home, fake, ws)
    assert result.output == {"N": "3"} and fake.asked == [1, 2]
    assert [m["role"] for m in fake.last_messages] == ["user", "assistant", "user"]
    assert "is not of type 'integer'" in json.dumps(fake.last_messages[2])


async def _turn_cap_fails_without_retry(home: Home, ws: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(tool_step, "MAX_TURNS", 2)
    looping = [{"type": "tool_use", "id": "g", "name": "Glob", "input": {"pattern": "*"}}]
    fake = Turns({1: looping, 2: [{**looping[0], "id": "g2"}]})
    with pytest.raises(ApplicationError) as info:
        await _step(home, fake, ws)
    assert info.value.non_retryable and "2 model turns" in str(info.value)


def test_resumes_without_repaying_or_rerunning(home: Home, tmp_path: Path) -> None:
    asyncio.run(_resumes_without_repaying_or_rerunning(home, tmp_path))


def test_repair_turn_continues_the_conversation(home: Home, tmp_path: Path) -> None:
    asyncio.run(_repair_turn_continues_the_conversation(home, tmp_path))


def test_turn_cap_fails_without_retry(home: Home, tmp_path: Path, monkeypatch: Any) -> None:
    asyncio.run(_turn_cap_fails_without_retry(home, tmp_path, monkeypatch))
