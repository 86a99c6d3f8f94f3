"""The workflow a schedule's firing starts (sagaflow._engine.scheduled), in process.

The time-skipping server has no Schedules API; starting the workflow directly is
exactly what a firing does.
"""

from __future__ import annotations

import uuid

import pytest
from harness import Engine
from temporalio.client import WorkflowFailureError

from sagaflow._engine import meta, scheduled
from sagaflow._engine.failures import failure_reason
from sagaflow.runrecord import read_record


def test_a_firing_prepares_and_runs_a_normal_run(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.client.start_workflow(
            scheduled.WORKFLOW_NAME,
            scheduled.ScheduledRunInput(
                schedule="nightly", skill="gated", base_queue=e.task_queue,
                args={"timeout": "600", "default": "approve"}, timeout_seconds=3600,
            ),
            id=f"sched-{uuid.uuid4().hex[:8]}", task_queue=e.task_queue,
        )
        assert await parent.result() == "published: approved by timeout default"
        memo = (await (await parent.describe()).memo())[scheduled.MEMO_KEY]
        run_id = memo["run_id"]
        assert memo == {"schedule": "nightly", "skill": "gated", "run_id": run_id}

        child = e.client.get_workflow_handle(run_id)
        assert await child.result() == "published: approved by timeout default"
        record = read_record(e.home, run_id)
        assert record is not None and record.skill == "gated"
        assert record.args == {"timeout": "600", "default": "approve"}
        child_memo = await (await child.describe()).memo()
        assert child_memo[meta.MEMO_OPTIONS]["timeout_seconds"] == 3600
        attrs = await e.attributes(child)
        assert (attrs[meta.SA_SKILL], attrs[meta.SA_STATE]) == ("gated", "completed")
        assert (await e.entry(run_id, "DONE")).summary == "published: approved by timeout default"
        assert e.inbox(parent.id) == []  # the plumbing parent reports nothing on success

    engine.run(scenario)


def test_a_firing_that_cannot_prepare_fails_with_an_inbox_entry(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.client.start_workflow(
            scheduled.WORKFLOW_NAME,
            scheduled.ScheduledRunInput(schedule="nightly", skill="gone", base_queue=e.task_queue),
            id=f"sched-{uuid.uuid4().hex[:8]}", task_queue=e.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as info:
            await parent.result()
        reason = failure_reason(info.value.cause)
        assert reason.startswith("Unknown skill 'gone'; available: ")
        failed = await e.entry(parent.id, "FAILED")
        assert failed.summary.startswith("Scheduled run of gone could not start: ")
        assert [r.name for r in e.home.runs.iterdir()] == []  # nothing half-made

    engine.run(scenario)
