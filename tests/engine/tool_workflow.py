"""A workflow that runs tool calls through ``sagaflow_run_tool``, as the agent loop does.

The sandbox re-imports this module by name (pytest puts ``tests/engine`` on ``sys.path``).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sagaflow.agent.tools import ToolCall, ToolOutcome
    from sagaflow.agent.tools.activity import RUN_TOOL


@workflow.defn(name="TestToolCallsWorkflow")
class ToolCallsWorkflow:
    """Runs each call in order, one activity each; returns the outcomes."""

    @workflow.run
    async def run(self, calls: list[ToolCall]) -> list[ToolOutcome]:
        outcomes = []
        for call in calls:
            outcomes.append(await workflow.execute_activity(
                RUN_TOOL, call, result_type=ToolOutcome,
                start_to_close_timeout=timedelta(minutes=11),
                heartbeat_timeout=timedelta(seconds=3),
                retry_policy=RetryPolicy(maximum_attempts=2),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            ))
        return outcomes
