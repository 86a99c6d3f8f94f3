"""Reaching an open run: pre-checks, its worker, and queries/updates with a deadline.

Queries and updates are answered by a worker, not by the server: before sending
one, the worker of the run's build is brought back from its snapshot when it is
not alive (a live worker is never replaced here), and every query/update gives up after
:data:`RPC_TIMEOUT` seconds with a line naming the task queue to serve.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from sagaflow._engine import meta
from sagaflow._engine.control_types import RunStatus
from sagaflow._engine.failures import failure_reason
from sagaflow.config import Settings
from sagaflow.errors import TemporalError, UsageError, WorkerError
from sagaflow.paths import Home
from sagaflow.runrecord import check_run_id
from sagaflow.runs import start as runs

RPC_TIMEOUT = 30.0
Notice = Callable[[str], None]


def _quiet(_msg: str) -> None:
    """Default notice sink."""


@dataclasses.dataclass(frozen=True)
class Local:
    """This machine's side of a run: its home (for the worker daemon) and settings."""

    home: Home
    settings: Settings
    notice: Notice = _quiet


def default_user() -> str:
    """Who is deciding: the OS user name (``unknown`` when there is none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def status_name(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower() if status else "unknown"


async def open_run(client: Client, run_id: str, verb: str) -> WorkflowExecutionDescription:
    """Describe the run's latest Temporal run and insist it is still running.

    Raises:
        RunNotFoundError: No run has that id.
        UsageError: The run already finished, or ``run_id`` is not a usable id.
    """
    check_run_id(run_id)
    desc: WorkflowExecutionDescription = await runs.describe(client.get_workflow_handle(run_id))
    if desc.status != WorkflowExecutionStatus.RUNNING:
        raise UsageError(
            f"Run {run_id} already finished ({status_name(desc.status)}); nothing to {verb}."
        )
    return desc


def no_worker(run_id: str, desc: WorkflowExecutionDescription, base_queue: str) -> WorkerError:
    pool = meta.pool_of(desc.task_queue, base_queue)
    command = "sagaflow worker run" + ("" if pool == meta.DEFAULT_POOL else f" --pool {pool}")
    return WorkerError(
        f"No worker answered for run {run_id} on task queue {desc.task_queue} within "
        f"{RPC_TIMEOUT:.0f}s; start one with '{command}'."
    )


async def ensure_worker(desc: WorkflowExecutionDescription, local: Local | None) -> None:
    """Bring back the worker of the run's build when none is alive (never replace one).

    A run pinned to a build of this home's deployment gets that build's worker,
    started from its snapshot whatever the working directory holds now; an
    unversioned run on the base queue gets this directory's build worker when no
    worker at all is alive.

    Raises:
        BuildError: The run's build snapshot is missing (the message says how to recover).
        WorkerError: The worker would not start.
    """
    if local is None:
        return
    from sagaflow._engine import buildstate, daemon, versioning

    build = versioning.build_of(desc, local.settings.task_queue)
    if build is not None:
        if buildstate.live_pid(local.home, build) is None:
            await asyncio.to_thread(daemon.revive, local.home, local.settings, build, local.notice)
        return
    if desc.task_queue != local.settings.task_queue or buildstate.live_workers(local.home):
        return
    await asyncio.to_thread(daemon.serve, local.home, local.settings, None, local.notice)


def _base_queue(desc: WorkflowExecutionDescription, local: Local | None) -> str:
    return local.settings.task_queue if local else desc.task_queue


async def blocked_error(
    client: Client, run_id: str, desc: WorkflowExecutionDescription
) -> WorkerError | None:
    """The error for a run a code change blocks (see :mod:`sagaflow._engine.blocked`), or None."""
    from sagaflow._engine.blocked import blocked

    try:
        why = await blocked(client, run_id)
    except RPCError:
        return None
    if why is None:
        return None
    skill = next((str(p.value) for p in desc.typed_search_attributes
                  if p.key.name == meta.SA_SKILL), desc.workflow_type)
    return WorkerError(f"Run {run_id} cannot answer: {why.reason(skill)}.", retryable=False)


async def refuse_blocked(client: Client, run_id: str, desc: WorkflowExecutionDescription) -> None:
    """Refuse at once to query or update a run a code change blocks: it would never answer,
    and the caller would wait :data:`RPC_TIMEOUT` to say "no worker".

    Free for a healthy run: ``desc`` (the describe already done) shows whether its workflow
    task failed and is being retried (retries are not in history); only then is the block
    read (:func:`blocked_error`).

    Raises:
        WorkerError: The run is blocked (the message says why and how to unblock it).
    """
    raw = desc.raw_description
    if not raw.HasField("pending_workflow_task") or raw.pending_workflow_task.attempt < 2:
        return
    stuck = await blocked_error(client, run_id, desc)
    if stuck is not None:
        raise stuck


async def query_status(
    client: Client, run_id: str, desc: WorkflowExecutionDescription, local: Local | None
) -> RunStatus:
    """The run's ``sagaflow_status`` answer (gates, pause, spend).

    Raises:
        UsageError: The run closed meanwhile.
        WorkerError: No worker answered in time, or a code change blocks the run.
        TemporalError: The run does not answer sagaflow's status query.
    """
    await refuse_blocked(client, run_id, desc)
    handle = client.get_workflow_handle(run_id)
    try:
        status: RunStatus = await handle.query(
            meta.QUERY_STATUS, result_type=RunStatus, rpc_timeout=timedelta(seconds=RPC_TIMEOUT)
        )
    except WorkflowQueryRejectedError:
        raise UsageError(f"Run {run_id} finished meanwhile; there is nothing to steer.") from None
    except (WorkflowQueryFailedError, RPCError) as exc:
        stuck = await blocked_error(client, run_id, desc)
        if stuck is not None:
            raise stuck from None
        if isinstance(exc, RPCError):
            if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
                raise no_worker(run_id, desc, _base_queue(desc, local)) from None
            raise
        raise TemporalError(
            f"Run {run_id} did not answer sagaflow's status query ({exc.message[:160]}); "
            "its worker may predate this sagaflow: restart it with 'sagaflow worker stop' "
            "and retry.",
            retryable=False,
        ) from None
    return status


async def send_update(
    handle: WorkflowHandle[Any, Any],
    name: str,
    arg: Any,
    desc: WorkflowExecutionDescription,
    local: Local | None,
) -> Any:
    """Execute a control update, turning every refusal into one line.

    Raises:
        UsageError: The run's validator refused it, or the run closed meanwhile.
        WorkerError: No worker answered in time.
    """
    try:
        return await handle.execute_update(name, arg, rpc_timeout=timedelta(seconds=RPC_TIMEOUT))
    except WorkflowUpdateFailedError as exc:
        reason = failure_reason(exc.cause).splitlines()[0].rstrip(".")
        raise UsageError(f"Run {handle.id} refused it: {reason}.") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise no_worker(handle.id, desc, _base_queue(desc, local)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UsageError(
                f"Run {handle.id} finished meanwhile; there is nothing to steer."
            ) from None
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise no_worker(handle.id, desc, _base_queue(desc, local)) from None
        raise
