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
* a continued run (continue-as-new) starts its control with the cost and calls so far;
* a Task sub-agent (a child run of the loop) has no control of its own: each of its
  turns' usage is signalled to the root run (``sagaflow_task_usage``), whose control
  counts it in the run's cost, model calls and tokens, so the parent's budget check
  before its next turn sees it (a sub-agent's own turns are not gated one by one);
* a question's inbox notice (``sagaflow_agent_notice``) opened or retired marks the run
  waiting on it (``SagaflowState`` ``waiting``, ``SagaflowWaiting`` ``question:KEY``), so
  ``list`` shows it like a gate (patch :data:`QUESTION_PATCH`: runs that asked before it
  replay without the upserts).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from temporalio import workflow
from temporalio.worker import ContinueAsNewInput

from sagaflow._engine.control import RunControl
from sagaflow._engine.control_types import APPROVAL
from sagaflow._engine.model_call import StepUsage
from sagaflow.agent import (
    AGENT_TOOL_ACTIVITY,
    AGENT_WORKFLOW,
    NOTICE_ACTIVITY,
    START_ACTIVITY,
    TOOL_ACTIVITY,
    TURN_ACTIVITY,
)
from sagaflow.agent.tools import ToolOutcome
from sagaflow.agent.types import AgentInput, NoticeInput, ToolRef, TurnResult

#: the loop's activities that take the run's RunConfig as their second argument
AGENT_CONFIGURED = frozenset({START_ACTIVITY, TURN_ACTIVITY})
AGENT_MODEL_STEPS = frozenset({TURN_ACTIVITY})
#: tool-call activities whose ``needs_approval`` outcome parks on the approval gate
TOOL_STEPS = frozenset({AGENT_TOOL_ACTIVITY, TOOL_ACTIVITY})
#: the prompt shown on a tool's approval gate is cut to this many characters
PROMPT_CHARS = 1500
#: ``workflow.patched`` id: a pending question sets the run's waiting search attributes
QUESTION_PATCH = "sagaflow-question-waiting"
#: ``workflow.patched`` id: a Task sub-agent signals each turn's usage to its root run
TASK_COST_PATCH = "sagaflow-task-cost"
#: the signal carrying a sub-agent turn's :class:`StepUsage` to the root run
SIGNAL_TASK_USAGE = "sagaflow_task_usage"


def is_agent(workflow_type: str) -> bool:
    return workflow_type == AGENT_WORKFLOW


def resume_counts(control: RunControl, args: Any) -> None:
    """A continued loop run starts with the cost and model calls of the runs before it."""
    first = args[0] if args else None
    carry = first.carry if isinstance(first, AgentInput) else None
    if carry is not None:
        control.spent_usd = carry.spent_usd
        control.calls = carry.model_calls


def question_notice(name: str, args: Any, control: RunControl | None) -> None:
    """A question's notice is starting: mark the run waiting on it (or no longer)."""
    notice = args[0] if name == NOTICE_ACTIVITY and args else None
    if control is None or not isinstance(notice, NoticeInput):
        return
    if not workflow.patched(QUESTION_PATCH):
        return
    if notice.opened and notice.key not in control.questions:
        control.questions.append(notice.key)
    elif not notice.opened and notice.key in control.questions:
        control.questions.remove(notice.key)
    control.refresh()


def model_turn(start: Any, input: Any, control: RunControl | None) -> Any:
    """Pause, budget, the turn, its usage recorded (returns the activity's future).

    A Task sub-agent (a child run, no control of its own) reports each turn's usage to
    its root run instead (:func:`report_to_root`), whose control counts it.
    """
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
        if isinstance(result, TurnResult):
            usage = result.usage
            step = StepUsage(
                model=usage.model, transport=usage.transport, tier=usage.tier,
                seconds=usage.seconds, attempt=usage.attempt, cost_usd=usage.cost_usd,
                input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                stop_reason=usage.stop_reason,
            )
            if control is not None:
                control.record_usage(step)
            else:
                await report_to_root(step)
        return result

    return asyncio.ensure_future(run())


async def report_to_root(usage: StepUsage) -> None:
    """A sub-agent's turn usage, signalled to the run it serves (its root workflow).

    Behind :data:`TASK_COST_PATCH` (sub-agents recorded before it replay without the
    signal); a root that has already closed cannot count it, and that is not an error.
    """
    info = workflow.info()
    if info.parent is None or not workflow.patched(TASK_COST_PATCH):
        return
    target = info.root.workflow_id if info.root is not None else info.parent.workflow_id
    try:
        await workflow.get_external_workflow_handle(target).signal(SIGNAL_TASK_USAGE, usage)
    except Exception as exc:  # the root closed meanwhile: nothing left to count it
        workflow.logger.warning("sub-agent usage not counted by %s: %s", target, exc)


def count_task_usage(control: RunControl) -> None:
    """The root run's handler: a sub-agent's turn counts in its cost, calls and budget."""

    def handler(usage: StepUsage) -> None:
        control.record_usage(usage)

    workflow.set_signal_handler(SIGNAL_TASK_USAGE, handler)


def carry_counts(control: RunControl | None, input: ContinueAsNewInput) -> None:
    """A loop run continuing as new carries its control's cost and calls (sub-agents'
    included), which :func:`resume_counts` restores."""
    first = input.args[0] if input.args else None
    carry = first.carry if isinstance(first, AgentInput) else None
    if control is not None and carry is not None:
        carry.spent_usd = control.spent_usd
        carry.model_calls = control.calls


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
