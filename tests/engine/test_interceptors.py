"""sagaflow's workflow interceptors (sagaflow._engine.interceptors), in process.

Pause honoured before activities, per-step timeouts from the memo, the
whole-run timeout, cancellation with compensations, gate timeouts, and the
inbox entry every run ends with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_workflows import StepsInput
from harness import Engine
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import CancelledError

from sagaflow._engine import meta
from sagaflow._engine.control_types import PauseRequest, RunStatus
from sagaflow._engine.failures import failure_reason


async def failure(handle: WorkflowHandle[Any, Any]) -> BaseException:
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert info.value.cause is not None
    return info.value.cause


def run_dir(e: Engine, handle: WorkflowHandle[Any, Any]) -> Path:
    return e.home.run_dir(handle.id)


def test_pause_holds_the_next_activity_until_unpaused(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        out = e.root / "out"
        handle = await e.start("t-steps", StepsInput(run_dir=str(out), writes=2, between="go"))
        await e.until(handle, lambda s: s.signals_waiting == ["go"])
        await handle.execute_update(meta.UPDATE_PAUSE, PauseRequest(paused=True, by="me"),
                                    result_type=RunStatus)
        await handle.signal("go")
        await e.until(handle, lambda s: s.waiting_on == "pause")
        assert await e.scheduled(handle, "write_artifact") == []
        attrs = await e.attributes(handle)
        assert (attrs[meta.SA_STATE], attrs[meta.SA_WAITING]) == ("paused", "pause")

        await handle.execute_update(meta.UPDATE_PAUSE, PauseRequest(paused=False),
                                    result_type=RunStatus)
        await e.until(handle, lambda s: s.signals_waiting == ["go"])
        assert (out / "w0.txt").read_text() == "0"
        await handle.signal("go")
        assert await handle.result() == [str(out / "w0.txt"), str(out / "w1.txt")]

    engine.run(scenario)


def test_step_timeouts_from_the_memo_override_the_skills(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        inp = StepsInput(run_dir=str(e.root / "out"), writes=1)
        handle = await e.start("t-steps", inp, step_timeouts={"write_artifact": 7})
        await handle.result()
        [scheduled] = await e.scheduled(handle, "write_artifact")
        assert scheduled.start_to_close_timeout.ToSeconds() == 7  # the skill asked for 30

        plain = await e.start("t-steps", inp)
        await plain.result()
        [scheduled] = await e.scheduled(plain, "write_artifact")
        assert scheduled.start_to_close_timeout.ToSeconds() == 30

    engine.run(scenario)


def test_whole_run_timeout_fails_the_run_after_compensating(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("gated", {"timeout": "3600"}, timeout_seconds=90)
        reason = failure_reason(await failure(handle))  # 90 s skipped, not waited
        assert reason == "the run timed out after 1m30s (launch --timeout)"
        assert (run_dir(e, handle) / "compensated.txt").read_text() == "draft withdrawn"
        failed = await e.entry(handle.id, "FAILED")
        assert failed.summary == reason
        assert (await e.attributes(handle))[meta.SA_STATE] == "timed_out"
        assert (await e.status(handle)).pending == []

    engine.run(scenario)


def test_cancel_runs_compensations_and_records_cancelled(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("gated")
        await e.until(handle, lambda s: bool(s.pending))
        await handle.cancel()
        assert isinstance(await failure(handle), CancelledError)
        assert (run_dir(e, handle) / "compensated.txt").read_text() == "draft withdrawn"
        cancelled = await e.entry(handle.id, "CANCELLED")
        assert "compensations" in cancelled.summary
        assert (await e.attributes(handle))[meta.SA_STATE] == "cancelled"

    engine.run(scenario)


@pytest.mark.parametrize("end", ["cancel", "timeout"])
def test_an_open_gate_is_retired_when_the_run_ends_otherwise(engine: Engine, end: str) -> None:
    async def scenario(e: Engine) -> None:
        options = {"timeout_seconds": 60} if end == "timeout" else {}
        handle = await e.launch("gated", **options)
        await e.entry(handle.id, "NEEDS_APPROVAL")
        if end == "cancel":
            await handle.cancel()
        await failure(handle)
        await e.entry(handle.id, "CANCELLED" if end == "cancel" else "FAILED")
        assert not (await e.entry(handle.id, "NEEDS_APPROVAL")).unread

    engine.run(scenario)


@pytest.mark.parametrize(("default", "outcome"), [
    ("approve", "published: approved by timeout default"),
    ("reject", "publish rejected by its timeout: no decision within 3600s; default: reject"),
])
def test_gate_timeout_takes_its_default(engine: Engine, default: str, outcome: str) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("gated", {"timeout": "3600", "default": default})
        if default == "approve":
            assert await handle.result() == outcome
            assert (await e.entry(handle.id, "DONE")).summary == outcome
        else:
            assert failure_reason(await failure(handle)) == outcome
            assert (await e.entry(handle.id, "FAILED")).summary == outcome
        [decision] = (await e.status(handle)).decisions
        assert (decision.timed_out, decision.by) == (True, "timeout")
        needs = await e.entry(handle.id, "NEEDS_APPROVAL")
        assert not needs.unread  # retired by the timeout too

    engine.run(scenario)


def test_done_entry_is_written_when_the_skill_does_not_report(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        quiet = await e.launch("saga-signal")
        await quiet.signal("manager_approval", {"approved": True, "comments": "fine"})
        assert await quiet.result() == "approved: fine"
        assert (await e.entry(quiet.id, "DONE")).summary == "approved: fine"

        reporting = await e.launch("gated", {"timeout": "60", "default": "approve"})
        await reporting.result()
        await e.entry(reporting.id, "DONE")
        done = [x for x in e.inbox(reporting.id) if x.status == "DONE"]
        assert [x.summary for x in done] == ["published: approved by timeout default"]

    engine.run(scenario)


def test_saga_compensates_a_failed_step_and_records_failed(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("saga-signal")
        await handle.signal("manager_approval", {"approved": False, "comments": "too dear"})
        assert failure_reason(await failure(handle)) == "manager said no: too dear"
        assert (run_dir(e, handle) / "unbooked.txt").read_text() == "booking undone"
        assert (await e.entry(handle.id, "FAILED")).summary == "manager said no: too dear"
        assert (await e.attributes(handle))[meta.SA_STATE] == "failed"

    engine.run(scenario)


def test_a_signal_that_never_comes_fails_the_run_after_compensating(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("saga-signal", {"wait": "86400"})  # a day, skipped
        reason = failure_reason(await failure(handle))
        assert reason == "no 'manager_approval' signal within 86400s"
        assert (run_dir(e, handle) / "unbooked.txt").read_text() == "booking undone"
        # the inbox says what show says (it said "TimeoutError: ..." in Python's words)
        assert (await e.entry(handle.id, "FAILED")).summary == reason

    engine.run(scenario)
