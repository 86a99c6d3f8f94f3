"""The ``sagaflow_run_tool`` activity: one tool call of an agent loop, durably.

``SagaflowPlugin`` registers :func:`run_tool` on every worker. The loop schedules one
activity per tool call, so a completed call is in history and never runs again; a call
whose worker dies is retried by Temporal (after the heartbeat timeout the loop sets).
While the tool runs, a background task heartbeats every :data:`HEARTBEAT_SECONDS`, so a
long Bash command keeps its activity alive and a cancellation reaches it (the command's
process group is then stopped).

What the model should hear (refusals, failing tools, schema violations, a ``deny`` rule)
comes back as ``ToolOutcome(is_error=True)``; an ``ask`` not yet approved comes back as
``ToolOutcome(needs_approval=...)`` with nothing run. Only infrastructure faults raise:
an ``OSError`` such as a full disk (retryable) or a malformed permission rule
(``ApplicationError``, non-retryable, type ``ConfigError``).
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sagaflow.agent.tools.base import ToolCall, ToolOutcome
from sagaflow.agent.tools.registry import execute
from sagaflow.errors import SagaflowError

RUN_TOOL = "sagaflow_run_tool"
HEARTBEAT_SECONDS = 1.0


async def _heartbeat_forever() -> None:
    # the first beat after one interval: the heartbeat timeout runs from the start anyway,
    # and each beat is an RPC and a server write (a quick tool call needs none)
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        activity.heartbeat()


@activity.defn(name=RUN_TOOL)
async def run_tool(call: ToolCall) -> ToolOutcome:
    """Run one tool call (see the module docstring for what returns and what raises).

    Raises:
        ApplicationError: a SagaflowError (e.g. a malformed rule), retryable as it says.
        OSError: the worker's own I/O trouble (retryable).
    """
    beat = asyncio.ensure_future(_heartbeat_forever())
    try:
        return await execute(call)
    except SagaflowError as exc:
        raise ApplicationError(exc.message, type=type(exc).__name__,
                               non_retryable=not exc.retryable) from None
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
