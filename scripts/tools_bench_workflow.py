"""Workflows for ``bench_tools.py`` (a module of its own: the sandbox re-imports it by name)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.agent.tools import ToolCall, ToolOutcome
    from sagaflow.agent.tools.activity import RUN_TOOL

RAW_NOOP = "bench_raw_noop"


@activity.defn(name=RAW_NOOP)
async def raw_noop(payload: dict[str, Any]) -> dict[str, Any]:
    """The floor: one activity that does nothing with an input of the same size."""
    return payload


@workflow.defn(name="BenchToolCalls")
class ToolCalls:
    """``count`` sagaflow_run_tool activities in a row."""

    @workflow.run
    async def run(self, call: ToolCall, count: int) -> int:
        for _ in range(count):
            await workflow.execute_activity(
                RUN_TOOL, call, result_type=ToolOutcome,
                start_to_close_timeout=timedelta(seconds=60))
        return count


@workflow.defn(name="BenchRawActivities")
class RawActivities:
    """``count`` no-op activities in a row, passing the call's input as a dict."""

    @workflow.run
    async def run(self, payload: dict[str, Any], count: int) -> int:
        for _ in range(count):
            await workflow.execute_activity(
                RAW_NOOP, payload, start_to_close_timeout=timedelta(seconds=60))
        return count
