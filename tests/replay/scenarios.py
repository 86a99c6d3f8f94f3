"""The runs whose histories tests/histories keeps: one per way a run can go.

Each scenario drives a run (fixed workflow id ``replay-<name>``) to its end on an
:class:`~harness.Engine` and returns its handle. scripts/record_histories.py runs
them on a dev server and writes ``tests/histories/<name>.json``; test_replay.py
replays those files against today's code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from harness import Engine
from temporalio.client import WorkflowFailureError, WorkflowHandle

from sagaflow._engine import meta
from sagaflow._engine.control_types import Decision, DecisionRequest, PauseRequest, RunStatus
from sagaflow.pricing import cost_of

Handle = WorkflowHandle[Any, Any]


def run_id(name: str) -> str:
    return f"replay-{name}"


async def _decide(handle: Handle, **request: Any) -> None:
    await handle.execute_update(meta.UPDATE_DECIDE, DecisionRequest(**request), result_type=Decision)


async def _pause(handle: Handle, paused: bool) -> None:
    await handle.execute_update(meta.UPDATE_PAUSE, PauseRequest(paused=paused, by="replay"),
                                result_type=RunStatus)


async def _fails(handle: Handle) -> None:
    try:
        await handle.result()
    except WorkflowFailureError:
        return
    raise AssertionError(f"{handle.id} was expected to fail")


async def hello_world(e: Engine) -> Handle:
    """The bundled skill on its scripted replies: write, one model step, emit."""
    handle = await e.launch("hello-world", {"name": "Ada"}, transport="scripted",
                            run_id=run_id("hello-world"))
    assert await handle.result() == "hello, Ada"
    return handle


async def gate_approved(e: Engine) -> Handle:
    handle = await e.launch("gated", run_id=run_id("gate-approved"))
    await e.until(handle, lambda s: bool(s.pending))
    await _decide(handle, approved=True, step="publish", by="alice", comment="ship it")
    assert await handle.result() == "published: approved by alice (ship it)"
    return handle


async def gate_rejected(e: Engine) -> Handle:
    handle = await e.launch("gated", run_id=run_id("gate-rejected"))
    await e.until(handle, lambda s: bool(s.pending))
    await _decide(handle, approved=False, step="publish", by="bob", reason="not this week")
    await _fails(handle)
    return handle


async def run_timed_out(e: Engine) -> Handle:
    """``launch --timeout 1`` on a run parked at a gate: its own timer ends it."""
    handle = await e.launch("gated", run_id=run_id("run-timed-out"), timeout_seconds=1.0)
    await _fails(handle)
    return handle


async def scheduled(e: Engine) -> Handle:
    """A schedule's firing: the plumbing workflow prepares the run and starts it as a child."""
    from sagaflow._engine import scheduled as firing

    handle = await e.client.start_workflow(
        firing.WORKFLOW_NAME,
        firing.ScheduledRunInput(schedule="nightly", skill="gated", base_queue=e.task_queue,
                                 args={"timeout": "1", "default": "approve"}),
        id=run_id("scheduled"), task_queue=e.task_queue,
    )
    assert await handle.result() == "published: approved by timeout default"
    return handle


async def gate_timed_out(e: Engine) -> Handle:
    handle = await e.launch("gated", {"timeout": "1", "default": "approve"},
                            run_id=run_id("gate-timed-out"))
    assert await handle.result() == "published: approved by timeout default"
    return handle


async def paused(e: Engine) -> Handle:
    """Paused at a gate; the approval then waits for the unpause before the next step."""
    handle = await e.launch("gated", run_id=run_id("paused"))
    await e.until(handle, lambda s: bool(s.pending))
    await _pause(handle, True)
    await _decide(handle, approved=True, by="bob")
    await e.until(handle, lambda s: not s.pending and s.waiting_on == "pause")
    await asyncio.sleep(0.2)
    await _pause(handle, False)
    await handle.result()
    return handle


async def budget_extended(e: Engine) -> Handle:
    """Two model steps on a budget that covers one and a half: parked, then extended."""
    model = e.settings.models["SONNET"]
    one_call = cost_of(model, {"input_tokens": e.model.input_tokens, "output_tokens": 10},
                       e.settings.prices)
    assert one_call, f"no price for {model}"
    e.model.calls.clear()  # the fake numbers its replies
    handle = await e.launch("two-step", {"topic": "tides"}, transport="anthropic",
                            run_id=run_id("budget-extended"), budget_usd=1.5 * one_call)
    await e.until(handle, lambda s: bool(s.pending))
    await _decide(handle, approved=True, extend_budget_usd=one_call, by="carol")
    assert await handle.result() == "1 + 2"
    return handle


async def signal(e: Engine) -> Handle:
    handle = await e.launch("saga-signal", run_id=run_id("signal"))
    await e.until(handle, lambda s: s.signals_waiting == ["manager_approval"])
    await handle.signal("manager_approval", {"approved": True, "comments": "go"})
    assert await handle.result() == "approved: go"
    return handle


async def saga_compensation(e: Engine) -> Handle:
    handle = await e.launch("saga-signal", run_id=run_id("saga-compensation"))
    await handle.signal("manager_approval", {"approved": False, "comments": "too dear"})
    await _fails(handle)
    return handle


async def cancelled(e: Engine) -> Handle:
    handle = await e.launch("gated", run_id=run_id("cancelled"))
    await e.until(handle, lambda s: bool(s.pending))
    await handle.cancel()
    await _fails(handle)
    return handle


async def typed(e: Engine) -> Handle:
    """Pydantic models as the run's input and result and its activity's input and result
    (tests/skills/typed-review)."""
    handle = await e.launch("typed-review", {"topic": "durable"}, run_id=run_id("typed"))
    assert (await handle.result())["topic"] == "durable"
    return handle


SCENARIOS: dict[str, Callable[[Engine], Awaitable[Handle]]] = {
    "hello-world": hello_world,
    "gate-approved": gate_approved,
    "gate-rejected": gate_rejected,
    "gate-timed-out": gate_timed_out,
    "run-timed-out": run_timed_out,
    "scheduled": scheduled,
    "paused": paused,
    "budget-extended": budget_extended,
    "signal": signal,
    "saga-compensation": saga_compensation,
    "cancelled": cancelled,
    "typed": typed,
}
