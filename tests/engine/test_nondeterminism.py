"""A broken code change never kills a run; a skill's own exception still does.

Which exceptions fail a run (``SkillCodeError``, the worker's only workflow
failure type) and which leave its workflow task retrying, both sides, on a real
dev server: a run parked on V1 code meets V2 code (an activity where V1 started
a timer), stays open and blocked; V1 code serving it again lets it finish.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from drift_workflows import DRIFT, DriftV1, DriftV2, Raises, SkillBug, drift_noop
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError
from temporalio.workflow import NondeterminismError

from sagaflow import inbox
from sagaflow._engine.blocked import BLOCKED, DEV_SERVER_CONFIG, NONDETERMINISTIC, blocked, sweep
from sagaflow._engine.plugin import SagaflowPlugin, SkillCodeError
from sagaflow._engine.search_attributes import keys
from sagaflow._engine.server import temporal_binary
from sagaflow.config import Settings
from sagaflow.paths import Home
from sagaflow.runs.listing import row_of, state_label


class _OwnError(Exception):
    pass


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("k"), _OwnError(), SkillBug("b"),
                                 RestrictedWorkflowAccessError("datetime.now"),
                                 ApplicationError("a")])
def test_these_fail_a_run(exc: Exception) -> None:
    assert isinstance(exc, SkillCodeError)


@pytest.mark.parametrize("exc", [NondeterminismError("drift"), KeyboardInterrupt(),
                                 asyncio.CancelledError()])
def test_these_do_not(exc: BaseException) -> None:
    assert not isinstance(exc, SkillCodeError)
    assert not issubclass(NondeterminismError, SkillCodeError)  # what the SDK's core asks


def _worker(client: Client, home: Home, queue: str, workflow: type, **extra: Any) -> Worker:
    plugin = SagaflowPlugin(home, Settings(task_queue=queue), {DRIFT: "t-drift"})
    return Worker(client, task_queue=queue, workflows=[workflow], activities=[drift_noop],
                  plugins=[plugin], sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
                  **extra)


async def _wait(what: Any, timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := await what()):
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)
    return found


async def _drift(home: Home) -> None:
    queue = f"drift-{uuid.uuid4().hex[:8]}"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), search_attributes=list(keys().values()),
        dev_server_extra_args=["--dynamic-config-value", DEV_SERVER_CONFIG],
    ) as env:
        client = env.client
        async with _worker(client, home, queue, DriftV1):
            handle = await client.start_workflow(DRIFT, id=f"drift-{queue}", task_queue=queue)

            async def timer_fired() -> bool:
                history = await handle.fetch_history()
                return any(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in history.events)

            await _wait(timer_fired)
        # V1's worker is gone; V2 (incompatible) serves the queue and the run is signalled
        async with _worker(client, home, queue, DriftV2):
            await handle.signal(DriftV1.proceed)
            found = await _wait(lambda: blocked(client, handle.id))
            desc = await handle.describe()
            assert desc.status is not None and desc.status.name == "RUNNING"  # not failed
            assert "Nondeterminism" in found.detail or "nondetermin" in found.detail.lower()
            history = await handle.fetch_history()
            failed = [e for e in history.events
                      if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
            assert failed and failed[-1].workflow_task_failed_event_attributes.cause == NONDETERMINISTIC
            assert "replay-check t-drift" in found.reason("t-drift")
            # the worker daemon's sweep: one BLOCKED inbox entry saying why; list says blocked
            swept = await _wait(lambda: sweep(client, home, queue))
            assert [b.run_id for b in swept] == [handle.id]
            entries = [e for e in inbox.read(home.inbox)[0] if e.status == BLOCKED]
            assert [(e.run_id, e.unread) for e in entries] == [(handle.id, True)]
            assert "code changed incompatibly" in entries[0].summary
            assert "sagaflow replay-check" in entries[0].summary
            await sweep(client, home, queue)  # written once
            assert len([e for e in inbox.read(home.inbox)[0] if e.status == BLOCKED]) == 1
            [listed] = [wf async for wf in client.list_workflows(f"WorkflowId = '{handle.id}'")]
            row = await row_of(listed, queue)
            assert row["blocked"] and "blocked: code changed incompatibly" in str(state_label(row))
        # reverted: V1's code serves it again and the run finishes as it started
        async with _worker(client, home, queue, DriftV1):
            assert await asyncio.wait_for(handle.result(), 30) == "v1 finished"
            assert await blocked(client, handle.id) is None
        assert await sweep(client, home, queue) == []  # the entry is retired (marked read)
        assert [e.unread for e in inbox.read(home.inbox)[0] if e.status == BLOCKED] == [False]

        # the other side: a skill's own exceptions still fail the run, at once
        async with Worker(client, task_queue=queue, workflows=[Raises],
                          plugins=[SagaflowPlugin(home, Settings(task_queue=queue), {})]):
            for kind, expected in (("own", "SkillBug"), ("plain", "ValueError"),
                                   ("clock", "RestrictedWorkflowAccessError")):
                with pytest.raises(WorkflowFailureError) as failure:
                    await asyncio.wait_for(client.execute_workflow(
                        Raises.run, kind, id=f"raises-{kind}-{queue}", task_queue=queue,
                        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE), 30)
                cause = failure.value.cause
                assert isinstance(cause, ApplicationError) and cause.type == expected, cause


def test_incompatible_code_blocks_a_run_and_reverting_lets_it_finish(home: Home) -> None:
    asyncio.run(_drift(home))
