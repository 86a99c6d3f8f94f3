"""``sagaflow_run_tool`` through SagaflowPlugin on a real dev server: every worker has it,
calls and outcomes round-trip through Temporal, refusals come back as tool errors, and a
cancelled Bash call has its process group stopped."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from tool_workflow import ToolCallsWorkflow

from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.server import temporal_binary
from sagaflow.agent.permissions import PermissionRules
from sagaflow.agent.tools import ToolCall, ToolOutcome
from sagaflow.agent.tools.activity import RUN_TOOL
from sagaflow.config import Settings
from sagaflow.paths import Home

RULES = PermissionRules(allow=("Write", "Bash(echo:*)", "Bash(sleep:*)"), deny=("Bash(rm:*)",))


def tool_call(ws: Path, name: str, **input: object) -> ToolCall:
    return ToolCall(run_id="r", tool_use_id=f"toolu_{uuid.uuid4().hex[:6]}", name=name,
                    input=dict(input), workspace=str(ws), skill_dir="", rules=RULES)


async def _scenario(home: Home, ws: Path) -> None:
    settings = Settings(task_queue=f"engine-{uuid.uuid4().hex[:8]}")
    plugin = SagaflowPlugin(home, settings, {})
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary())
    ) as env, Worker(env.client, task_queue=settings.task_queue,
                     workflows=[ToolCallsWorkflow], plugins=[plugin]):
        calls = [
            tool_call(ws, "Write", file_path=str(ws / "r.md"), content="alpha\nbeta\n"),
            tool_call(ws, "Read", file_path="r.md", offset=2),
            tool_call(ws, "Bash", command="echo from-bash"),
            tool_call(ws, "Bash", command="rm r.md"),
            tool_call(ws, "Bash", command="touch x"),
            tool_call(ws, "Read", file_path="../escape"),
        ]
        handle = await env.client.start_workflow(
            ToolCallsWorkflow.run, calls, id=f"tools-{uuid.uuid4().hex[:6]}",
            task_queue=settings.task_queue)
        outcomes = await handle.result()
        assert outcomes[:3] == [
            ToolOutcome(f"Created {ws / 'r.md'} (2 lines, 11 bytes)."),
            ToolOutcome("     2\tbeta"),
            ToolOutcome("from-bash"),
        ]
        assert outcomes[3].is_error and "deny 'Bash(rm:*)'" in outcomes[3].content
        assert outcomes[4] == ToolOutcome("Waiting for a human to approve Bash: touch x.",
                                          needs_approval="Bash: touch x")
        assert outcomes[5].is_error and "outside the workspace" in outcomes[5].content
        assert (ws / "r.md").exists() and not (ws / "x").exists()
        history = await handle.fetch_history()
        scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name
                     for e in history.events
                     if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert scheduled == [RUN_TOOL] * len(calls)  # one activity per tool call

        # a long Bash call heartbeats; cancelling the run stops its process group
        slow = tool_call(ws, "Bash", command="echo $$ > shell.pid; sleep 120")
        handle = await env.client.start_workflow(
            ToolCallsWorkflow.run, [slow], id=f"tools-{uuid.uuid4().hex[:6]}",
            task_queue=settings.task_queue)
        pid_file = ws / "shell.pid"
        deadline = time.monotonic() + 15
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline, "the Bash call never started"
            await asyncio.sleep(0.05)
        shell = int(pid_file.read_text())
        await asyncio.sleep(4)  # longer than the 3 s heartbeat timeout: heartbeats keep it alive
        assert psutil.pid_exists(shell)
        await handle.cancel()
        try:
            await handle.result()
            raise AssertionError("the cancelled run completed")
        except WorkflowFailureError:
            pass
        deadline = time.monotonic() + 10
        while psutil.pid_exists(shell) and psutil.Process(shell).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the cancelled Bash call kept running"
            await asyncio.sleep(0.05)
        events = [e.event_type for e in (await handle.fetch_history()).events]
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED in events
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT not in events


def test_run_tool_through_the_plugin(home: Home, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    asyncio.run(_scenario(home, ws))
