"""Runs in Temporal: start or attach, await with progress, show (list: see listing.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from sagaflow.config import Settings
from sagaflow.errors import RunNotFoundError, SagaflowError, UsageError
from sagaflow.launcher import Prepared
from sagaflow.runtime.failures import failure_reason


class RunFailedError(SagaflowError):
    """The awaited run ended without a result."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone().isoformat(timespec="seconds") if value else None


IF_EXISTS = ("attach", "fail", "replace")
#: grace on top of --timeout before Temporal's own execution timeout fires (the
#: interceptor's timeout fails the run cleanly first; this is the backstop)
TIMEOUT_GRACE_SECONDS = 300


async def start(
    client: Client, settings: Settings, prepared: Prepared, *,
    options: dict[str, Any] | None = None, if_exists: str | None = None,
) -> tuple[WorkflowHandle[Any, Any], bool]:
    """Start the run, or attach to the run with the same id.

    Args:
        options: the run's ``sagaflow`` memo (``meta.run_options``): pool, budget, timeouts.
        if_exists: what an existing run with this id means — ``attach`` (default for an
            open run), ``fail``, or ``replace`` (terminate it and start afresh).

    Returns:
        The handle and whether a new run was started.
    """
    from sagaflow.runtime import meta
    from sagaflow.runtime.search_attributes import initial

    options = options or meta.run_options(base_queue=settings.task_queue)
    if prepared.attach:
        handle = client.get_workflow_handle(prepared.run_id)
        await describe(handle)
        return handle, False
    conflict, reuse = {
        None: (WorkflowIDConflictPolicy.USE_EXISTING, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "attach": (WorkflowIDConflictPolicy.USE_EXISTING, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "fail": (WorkflowIDConflictPolicy.FAIL, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "replace": (
            WorkflowIDConflictPolicy.TERMINATE_EXISTING, WorkflowIDReusePolicy.ALLOW_DUPLICATE
        ),
    }[if_exists]
    timeout = options.get("timeout_seconds")
    try:
        handle = await client.start_workflow(
            prepared.spec.workflow_name,
            prepared.workflow_input,
            id=prepared.run_id,
            task_queue=meta.pool_queue(settings.task_queue, options.get("pool")),
            id_conflict_policy=conflict,
            id_reuse_policy=reuse,
            memo=meta.memo_for(prepared.record.skill, prepared.record.args, options),
            search_attributes=initial(prepared.record.skill),
            execution_timeout=timedelta(seconds=float(timeout) + TIMEOUT_GRACE_SECONDS)
            if timeout else None,
        )
    except WorkflowAlreadyStartedError:
        if if_exists == "attach":
            return client.get_workflow_handle(prepared.run_id), False
        if if_exists == "fail":
            raise UsageError(
                f"A run with id {prepared.run_id} already exists; use --if-exists attach "
                "or --if-exists replace, or pick another --id."
            ) from None
        raise UsageError(
            f"A finished run with id {prepared.run_id} already exists; pick another --id, "
            f"see it with 'sagaflow show {prepared.run_id}', or start afresh with "
            "--if-exists replace."
        ) from None
    started = getattr(handle, "_start_workflow_response", None)
    fresh = bool(getattr(started, "started", True))
    return handle, fresh


async def describe(handle: WorkflowHandle[Any, Any]) -> Any:
    try:
        return await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise RunNotFoundError(
                f"No run {handle.id} in Temporal; check the id with 'sagaflow list'."
            ) from None
        raise


def _progress_line(desc: Any) -> str:
    pending = list(desc.raw_description.pending_activities)
    parts = [desc.status.name.lower() if desc.status else "running"]
    for act in pending[:2]:
        label = act.activity_type.name
        if act.attempt > 1:
            label += f" (attempt {act.attempt}"
            if act.last_failure.message:
                label += f", last error: {act.last_failure.message[:60]}"
            label += ")"
        parts.append(label)
    return " · ".join(parts)


async def await_result(
    handle: WorkflowHandle[Any, Any], on_progress: Callable[[str], None] | None = None
) -> Any:
    """Wait for the run's result, reporting progress about once a second."""
    result_task = asyncio.ensure_future(handle.result())
    try:
        while True:
            done, _ = await asyncio.wait({result_task}, timeout=1.0)
            if done:
                break
            if on_progress is not None:
                with contextlib.suppress(RPCError):
                    on_progress(_progress_line(await handle.describe()))
        return result_task.result()
    except WorkflowFailureError as exc:
        raise RunFailedError(f"Run {handle.id} failed: {failure_reason(exc.cause)}") from None
    finally:
        if not result_task.done():
            result_task.cancel()


async def show_run(client: Client, run_id: str) -> dict[str, Any]:
    """Status, skill, args, times, result or failure, and the steps done."""
    handle = client.get_workflow_handle(run_id)
    desc = await describe(handle)
    memo = await desc.memo()
    steps: dict[int, dict[str, Any]] = {}
    failure: str | None = None
    async for event in handle.fetch_history_events():
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            attrs = event.activity_task_scheduled_event_attributes
            steps[event.event_id] = {
                "step": attrs.activity_type.name, "status": "scheduled",
                "scheduled": _iso(event.event_time.ToDatetime(tzinfo=UTC)),
                "attempts": 0, "error": None,
            }
        elif kind == "activity_task_started_event_attributes":
            started = event.activity_task_started_event_attributes
            step = steps.get(started.scheduled_event_id)
            if step:
                step["status"], step["attempts"] = "running", started.attempt
        elif kind and kind.startswith("activity_task_") and kind.endswith("_event_attributes"):
            closing = getattr(event, kind)
            step = steps.get(getattr(closing, "scheduled_event_id", -1))
            if step:
                step["status"] = kind[len("activity_task_"):-len("_event_attributes")]
                if hasattr(closing, "failure") and closing.HasField("failure"):
                    step["error"] = closing.failure.message
        elif kind == "workflow_execution_failed_event_attributes":
            failure = event.workflow_execution_failed_event_attributes.failure.message
    for act in desc.raw_description.pending_activities:
        for step in steps.values():
            if step["step"] == act.activity_type.name and step["status"] in ("scheduled", "running"):
                step["attempts"] = act.attempt
                if act.last_failure.message:
                    step["error"] = act.last_failure.message
    result: Any = None
    status = desc.status.name.lower() if desc.status else "unknown"
    if desc.status == WorkflowExecutionStatus.COMPLETED:
        result = await handle.result()
    elif desc.status == WorkflowExecutionStatus.FAILED:
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            failure = failure_reason(exc.cause)
    done = [s for s in steps.values() if s["status"] == "completed"]
    return {
        "run_id": run_id,
        "skill": memo.get("skill") or desc.workflow_type,
        "status": status,
        "args": memo.get("args", {}),
        "started": _iso(desc.start_time),
        "closed": _iso(desc.close_time),
        "result": result,
        "failure": failure,
        "steps_done": len(done),
        "steps": list(steps.values()),
    }
