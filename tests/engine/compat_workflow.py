"""A workflow module in the sagaflow 0.10 style that reads TASK_QUEUE at import (as
npow/claude-skills' autopilot does), for tests/engine/test_compat_activities.py."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.temporal_client import TASK_QUEUE


@workflow.defn(name="CompatTaskQueueWorkflow")
class TaskQueueWorkflow:
    @workflow.run
    async def run(self) -> str:
        return TASK_QUEUE
