"""The durable agent loop: the one workflow that runs every SKILL.md skill.

::

    start (activity) ─► turn 1 (activity) ─► tool call (activity) ... ─► turn 2 ─► ... ─► answer

* Each model turn is one ``sagaflow_agent_turn`` activity and each tool call one
  ``sagaflow_agent_tool`` activity (the tools' ``run_tool``): a crash resumes after the
  last completed one, whose result history keeps (a completed tool call never runs again).
* The worker interceptor does for these what it does for every run: pause before each
  step, the budget checked against a turn's worst case before it starts (the run parks
  in a budget gate), usage and cost recorded, an ``ask`` permission outcome parked on
  the same approval gate as ``sagaflow approve`` / ``reject``, inbox entries at the end.
* TodoWrite (kept in workflow state, ``show``), AskUserQuestion (``sagaflow answer``),
  Task (a sub-agent as a child run with its own transcript) and MCP tools (refused,
  naming the server) are handled here (:mod:`sagaflow.agent.loop_tools`).
* History stays bounded: the transcript is a file; history carries its path, each
  turn's tool calls and a short text. After ``turns_per_run`` turns, or when Temporal
  suggests it, the run continues as new carrying the transcript reference.
* ``max_turns`` reached: the run fails (FAILED inbox entry) and keeps its transcript.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from sagaflow.agent import (
        AGENT_WORKFLOW,
        QUERY_AGENT,
        START_ACTIVITY,
        TURN_ACTIVITY,
        UPDATE_ANSWER,
    )
    from sagaflow.agent.loop_tools import LoopTools
    from sagaflow.agent.types import (
        AgentInput,
        AgentStatus,
        AnswerRequest,
        Carry,
        StartResult,
        TurnInput,
        TurnResult,
    )

#: one model turn; with the claude transport one "turn" is the whole skill (one session)
TURN_TIMEOUT = timedelta(hours=2)
TURN_HEARTBEAT = timedelta(seconds=10)


@workflow.defn(name=AGENT_WORKFLOW)
class AgentLoop:
    """Runs one SKILL.md skill (input :class:`AgentInput`; returns the final answer)."""

    def __init__(self) -> None:
        self.carry: Carry | None = None
        self.tools = LoopTools()
        self.last_text = ""

    @workflow.query(name=QUERY_AGENT)
    def status(self) -> AgentStatus:
        carry = self.carry
        return AgentStatus(
            turns=carry.turns if carry else 0, tool_calls=carry.tool_calls if carry else 0,
            todos=list(carry.todos) if carry else [], question=self.tools.question,
            transcript=carry.transcript if carry else "", last_text=self.last_text,
        )

    @workflow.update(name=UPDATE_ANSWER)
    def answer(self, req: AnswerRequest) -> str:
        return self.tools.take_answer(req)

    @answer.validator
    def _validate_answer(self, req: AnswerRequest) -> None:
        self.tools.validate_answer(req)

    @workflow.run
    async def run(self, inp: AgentInput) -> str:
        carry = inp.carry
        if carry is None:
            started = await workflow.execute_activity(
                START_ACTIVITY, inp, result_type=StartResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            carry = Carry(transcript=started.transcript, turns=0, tool_calls=0,
                          tools=started.tools, rules=started.rules,
                          mcp_servers=started.mcp_servers)
        self.carry = carry
        self.tools.todos = carry.todos
        here = 0
        while True:
            if carry.turns >= inp.max_turns:
                raise ApplicationError(
                    f"max turns reached: {carry.turns} model turns (--max-turns "
                    f"{inp.max_turns}) without a final answer; the transcript is kept at "
                    f"{carry.transcript}. Relaunch with a higher --max-turns.",
                    type="MaxTurns", non_retryable=True,
                )
            if here and (here >= inp.turns_per_run
                         or workflow.info().is_continue_as_new_suggested()):
                workflow.continue_as_new(replace(inp, carry=carry))
            result = await self._turn(inp, carry)
            here += 1
            carry.turns, carry.results = result.turn, []
            carry.transcript_bytes = result.transcript_bytes
            carry.spent_usd += result.usage.cost_usd or 0.0
            self.last_text = result.text
            if not result.tool_uses:
                return result.text or "(the agent finished without a final message)"
            for use in result.tool_uses:
                carry.results.append(await self.tools.call(inp, carry, use))
                carry.tool_calls += 1

    async def _turn(self, inp: AgentInput, carry: Carry) -> TurnResult:
        result: TurnResult = await workflow.execute_activity(
            TURN_ACTIVITY,
            TurnInput(
                run_id=workflow.info().workflow_id, transcript=carry.transcript,
                turn=carry.turns + 1, results=carry.results, tools=carry.tools,
                tier_name=inp.tier, max_tokens=inp.max_tokens,
                prompt_bytes=carry.transcript_bytes, skill_dir=inp.skill_dir,
                workspace=inp.workspace, allow=list(carry.rules.allow), max_turns=inp.max_turns,
            ),
            result_type=TurnResult,
            start_to_close_timeout=TURN_TIMEOUT,
            heartbeat_timeout=TURN_HEARTBEAT,
        )
        return result
