"""A cancel ends a run CANCELLED with its reason wherever it lands; a pause keeps who and why.

Issue 8 item 4, in process: a cancel while a model call is in flight (the usual case),
also when the skill wraps the step's failure in an error of its own; ``pause --reason``
kept in the status query and the run's memo.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_workflows import StepsInput
from harness import Engine
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError

from sagaflow._engine import meta
from sagaflow._engine.control_types import PauseRequest, RunStatus


async def _model_called(e: Engine, count: int = 1) -> None:
    for _ in range(500):
        if len(e.model.calls) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the model was never called")


async def _memo(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    return await (await handle.describe()).memo()


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "wrapped-by-the-skill"])
def test_cancel_during_a_model_call_ends_cancelled_with_its_reason(
    engine: Engine, wrapped: bool
) -> None:
    async def scenario(e: Engine) -> None:
        e.model.hold = asyncio.Event()  # the call stays in flight
        inp = StepsInput(run_dir=str(e.root / "out"), writes=1, calls=1, heartbeat_seconds=2,
                         wrap_errors=wrapped)
        handle = await e.start("t-steps", inp)
        await _model_called(e)
        await handle.cancel(reason="wrong topic")
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        assert isinstance(info.value.cause, CancelledError)
        assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
        entry = await e.entry(handle.id, "CANCELLED")
        assert entry.summary == "cancelled: wrong topic; compensations (if any) ran"
        assert [x.status for x in e.inbox(handle.id)] == ["CANCELLED"]  # no FAILED entry
        assert (await e.attributes(handle))[meta.SA_STATE] == "cancelled"

    engine.run(scenario)


def test_a_cancel_without_a_reason_says_it_was_requested(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("gated")
        await e.until(handle, lambda s: bool(s.pending))
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        entry = await e.entry(handle.id, "CANCELLED")
        assert entry.summary == "cancelled by request; compensations (if any) ran"

    engine.run(scenario)


def test_a_failure_that_is_no_cancel_stays_failed(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("saga-signal")
        await handle.signal("manager_approval", {"approved": False, "comments": "too dear"})
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
        assert [x.status for x in e.inbox(handle.id)] == ["FAILED"]

    engine.run(scenario)


def test_pause_keeps_who_why_and_when_until_unpaused(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        out = e.root / "out"
        handle = await e.start("t-steps", StepsInput(run_dir=str(out), writes=1, between="go"))
        await e.until(handle, lambda s: s.signals_waiting == ["go"])
        status = await handle.execute_update(
            meta.UPDATE_PAUSE, PauseRequest(paused=True, by="carol", reason="lunch"),
            result_type=RunStatus,
        )
        assert (status.paused, status.paused_by, status.pause_reason) == (True, "carol", "lunch")
        assert status.paused_at.startswith("20")
        assert (await _memo(handle))[meta.MEMO_PAUSE] == {
            "by": "carol", "reason": "lunch", "at": status.paused_at}
        resumed = await handle.execute_update(
            meta.UPDATE_PAUSE, PauseRequest(paused=False, by="carol"), result_type=RunStatus
        )
        assert (resumed.paused, resumed.paused_by, resumed.pause_reason) == (False, "", "")
        assert meta.MEMO_PAUSE not in await _memo(handle)
        await handle.signal("go")
        assert await handle.result() == [str(out / "w0.txt")]

    engine.run(scenario)
