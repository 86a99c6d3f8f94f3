"""The per-run control plane (sagaflow._engine.control), in process.

Status query, the validated ``sagaflow_decide`` / ``sagaflow_pause`` updates (a
rejected update never reaches history) and signals buffered for
``wait_for_signal``.
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_workflows import GatesInput, SignalsInput
from harness import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from sagaflow._engine import meta
from sagaflow._engine.control_types import Decision, DecisionRequest, PauseRequest, RunStatus

ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED


async def decide(handle: WorkflowHandle[Any, Any], **request: Any) -> Decision:
    return await handle.execute_update(
        meta.UPDATE_DECIDE, DecisionRequest(**request), result_type=Decision
    )


async def pause(handle: WorkflowHandle[Any, Any], paused: bool, **request: Any) -> RunStatus:
    return await handle.execute_update(
        meta.UPDATE_PAUSE, PauseRequest(paused=paused, **request), result_type=RunStatus
    )


async def refused(call: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    return str(info.value.cause)


def test_status_and_attributes_follow_a_gate(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("gated", {"timeout": "3600", "default": "reject"})
        status = await e.until(handle, lambda s: bool(s.pending))
        gate = status.pending[0]
        assert (gate.step, gate.kind, gate.prompt, gate.default) == (
            "publish", "approval", "Publish?", "reject")
        assert gate.timeout_at is not None and status.waiting_on == "approval:publish"
        attrs = await e.attributes(handle)
        assert attrs[meta.SA_STATE] == "waiting"
        assert attrs[meta.SA_WAITING] == "approval:publish"
        assert attrs[meta.SA_SKILL] == "gated"
        needs = await e.entry(handle.id, "NEEDS_APPROVAL")
        assert f"sagaflow approve {handle.id} --step publish" in needs.summary

        decision = await decide(handle, approved=True, step="publish", by="alice", comment="ship")
        assert (decision.approved, decision.by, decision.comment, decision.timed_out) == (
            True, "alice", "ship", False)
        assert await handle.result() == "published: approved by alice (ship)"
        attrs = await e.attributes(handle)
        assert attrs[meta.SA_STATE] == "completed" and meta.SA_WAITING not in attrs
        done = await e.status(handle)
        assert done.pending == [] and [d.step for d in done.decisions] == ["publish"]
        entries = {x.status: x for x in e.inbox(handle.id)}
        assert not entries["NEEDS_APPROVAL"].unread  # retired once decided
        assert entries["DONE"].summary == "published: approved by alice (ship)"
        assert e.notes == [  # through the injected notifier, in order
            ("sagaflow: gated needs approval", "Publish?"),
            ("sagaflow: gated DONE", "published: approved by alice (ship)"),
        ]

    engine.run(scenario)


def test_decide_rejects_what_is_not_pending(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-gates", GatesInput(steps=["a", "b"]))
        await e.until(handle, lambda s: len(s.pending) == 2)
        assert "pick one with --step" in await refused(decide(handle, approved=True))
        assert "no approval named 'c' is pending (pending: a, b)" in await refused(
            decide(handle, approved=True, step="c"))
        assert "is an approval, not a budget; drop --extend-budget" in await refused(
            decide(handle, approved=True, step="a", extend_budget_usd=1.0))
        assert "must be a positive amount" in await refused(
            decide(handle, approved=True, step="a", extend_budget_usd=-1.0))

        await decide(handle, approved=True, step="a", by="alice")
        assert "step 'a' was already decided: approved by alice" in await refused(
            decide(handle, approved=False, step="a", by="bob"))
        await decide(handle, approved=False, step="b", reason="no")  # the only one left
        status = await e.until(handle, lambda s: s.waiting_on == "signal:finish")
        assert status.signals_waiting == ["finish"]
        assert "not waiting on an approval; 'b' was already rejected" in await refused(
            decide(handle, approved=True))

        await handle.signal("finish")
        assert await handle.result() == ["a:approved:alice", "b:rejected:"]
        accepted = await e.events(handle, ACCEPTED)
        assert len(accepted) == 2, "refused updates must not reach history"

    engine.run(scenario)


def test_pause_validation_and_status(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-gates", GatesInput(steps=["a"]))
        await e.until(handle, lambda s: bool(s.pending))
        assert "the run is not paused" in await refused(pause(handle, False))
        status = await pause(handle, True, by="carol", reason="lunch")
        assert status.paused
        assert "already paused" in await refused(pause(handle, True))
        assert (await e.attributes(handle))[meta.SA_STATE] == "waiting"  # a gate outranks a pause
        status = await pause(handle, False)
        assert not status.paused
        await decide(handle, approved=True)
        await handle.signal("finish")
        assert await handle.result() == ["a:approved:"]

    engine.run(scenario)


def test_signals_are_buffered_first_in_first_out(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-signals", SignalsInput(count=3))
        await e.until(handle, lambda s: s.signals_waiting == ["start"])
        for n in (1, 2, 3):
            await handle.signal("item", {"n": n})
        assert (await e.attributes(handle))[meta.SA_WAITING] == "signal:start"
        await handle.signal("start")
        result = await handle.result()  # the 60 s "late" wait is skipped
        assert result == {"items": [{"n": 1}, {"n": 2}, {"n": 3}], "late": "none came"}

    engine.run(scenario)


def test_signal_timeout_without_default_raises(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-signals", SignalsInput(count=0, late_timeout=90,
                                                         late_default=False))
        await handle.signal("start")
        assert await handle.result() == {
            "items": [], "late": "TimeoutError: no 'late' signal within 90s"}

    engine.run(scenario)


def test_a_restart_signal_to_a_run_without_a_deadline_is_dropped(engine: Engine) -> None:
    """Only a run launched with --timeout registers the restart handler; any other run's
    control plane drops the signal instead of buffering it for the skill."""
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-signals", SignalsInput(count=1))
        await e.until(handle, lambda s: s.signals_waiting == ["start"])
        await handle.signal(meta.SIGNAL_RESTART_DEADLINE)
        await handle.signal("item", {"n": 1})
        await handle.signal("start")
        assert await handle.result() == {"items": [{"n": 1}], "late": "none came"}

    engine.run(scenario)
