"""What the worker interceptor does for the agent loop's steps (SKILL.md runs).

The loop (:mod:`sagaflow.agent.loop`) never touches the run control itself; the
interceptor gives its steps the same guarantees as any skill's:

* a model turn (``sagaflow_agent_turn``) waits out a pause, checks the budget against
  the turn's worst case (the transcript's size is its prompt) and parks in the budget
  gate, and its usage is recorded (status query, cost search attribute);
* a tool call (``sagaflow_agent_tool``, or ``sagaflow_run_tool`` called directly) whose
  outcome ``needs_approval`` (an ``ask``
  permission rule) parks on an approval gate named ``tool-<tool_use_id>`` with the tool
  input shown (``sagaflow approve RUN`` / ``reject RUN --reason``): approved, the same
  call runs again with ``approved=True``; rejected, the model is told why;
* a continued run (continue-as-new) starts its control with the cost and calls so far.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from temporalio import workflow

from sagaflow._engine.control import RunControl
from sagaflow._engine.control_types import APPROVAL
from sagaflow._engine.model_call import StepUsage
from sagaflow.agent import (
    AGENT_TOOL_ACTIVITY,
    AGENT_WORKFLOW,
    START_ACTIVITY,
    TOOL_ACTIVITY,
    TURN_ACTIVITY,
)
from sagaflow.agent.tools import ToolOutcome
from sagaflow.agent.types import AgentInput, ToolRef, TurnResult

#: the loop's activities that take the run's RunConfig as their second argument
AGENT_CONFIGURED = frozenset({START_ACTIVITY, TURN_ACTIVITY})
AGENT_MODEL_STEPS = frozenset({TURN_ACTIVITY})
#: tool-call activities whose ``needs_approval`` outcome parks on the approval gate
TOOL_STEPS = frozenset({AGENT_TOOL_ACTIVITY, TOOL_ACTIVITY})
#: the prompt shown on a tool's approval gate is cut to this many characters
PROMPT_CHARS = 1500


def is_agent(workflow_type: str) -> bool:
    return workflow_type == AGENT_WORKFLOW


def resume_counts(control: RunControl, args: Any) -> None:
    """A continued loop run starts with the cost and model calls of the runs before it."""
    first = args[0] if args else None
    carry = first.carry if isinstance(first, AgentInput) else None
    if carry is not None:
        control.spent_usd = carry.spent_usd
        control.calls = carry.model_calls


def model_turn(start: Any, input: Any, control: RunControl | None) -> Any:
    """Pause, budget, the turn, its usage recorded (returns the activity's future)."""
    turn = input.args[0] if input.args else None
    prompt_bytes = getattr(turn, "prompt_bytes", None)
    max_tokens = getattr(turn, "max_tokens", 8192)
    tier = str(getattr(turn, "tier_name", "") or "")

    async def run() -> Any:
        if control is not None:
            await control.wait_unpaused()
            await control.check_budget(control.worst_case_usd(tier, prompt_bytes, max_tokens))
            await control.wait_unpaused()
        result = await start(input)
        if control is not None and isinstance(result, TurnResult):
            usage = result.usage
            control.record_usage(StepUsage(
                model=usage.model, transport=usage.transport, tier=usage.tier,
                seconds=usage.seconds, attempt=usage.attempt, cost_usd=usage.cost_usd,
                input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                stop_reason=usage.stop_reason,
            ))
        return result

    return asyncio.ensure_future(run())


def tool_call(start: Any, input: Any, control: RunControl | None) -> Any:
    """Pause, the tool call, and an ``ask`` outcome parked on the approval gate."""

    async def run() -> Any:
        if control is not None:
            await control.wait_unpaused()
        outcome = await start(input)
        ask = getattr(outcome, "needs_approval", None)
        if not ask or control is None:
            return outcome
        call = input.args[0]
        step = f"tool-{call.tool_use_id}"
        prompt = f"{call.name} asks for approval: {ask}"[:PROMPT_CHARS]
        decision = await control.open_gate(step, APPROVAL, prompt, None, "reject")
        if not decision.approved:
            why = f": {decision.reason}" if decision.reason else ""
            who = f" ({decision.by})" if decision.by else ""
            told = (f"A human rejected this {call.name} call{who}{why}. Do not retry it; "
                    "take another way or finish.")
            if input.activity == AGENT_TOOL_ACTIVITY:
                return ToolRef(content=told, is_error=True)
            return ToolOutcome(content=told, is_error=True)
        await control.wait_unpaused()
        input.args = [replace(call, approved=True), *input.args[1:]]
        return await start(input)

    return asyncio.ensure_future(run())


def skill_of(default: str) -> str:
    """The skill a loop run serves: its memo's ``skill`` (one workflow, many skills)."""
    from sagaflow._engine import meta

    value = workflow.memo_value(meta.MEMO_SKILL, default, type_hint=str)
    return str(value)
