"""``sagaflow retry``: re-drive a run that ended without a result, paying only for what failed.

A retry is a Temporal *reset* of the run's last Temporal run: the new run keeps
the history up to the reset point, so every step that completed before it is
replayed from its recorded result (a completed model call is not made, nor paid
for, again), and the workflow id (sagaflow's run id) stays the same.

The reset point is the workflow task that scheduled the earliest step that did
not complete, or, when every step completed, the last workflow task before the
run ended. A cancellation counts as the end: the point lies before the cancel
request, which Temporal does not carry over to the new run. Signals and updates
sent after the point are re-applied (Temporal's default).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from sagaflow.errors import TemporalError, UsageError
from sagaflow.runrecord import check_run_id
from sagaflow.runs import reach
from sagaflow.runs import start as runs

RETRYABLE = {
    WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED, WorkflowExecutionStatus.TERMINATED,
}
_ACTIVITY_CLOSED = {
    "activity_task_completed_event_attributes": "completed",
    "activity_task_failed_event_attributes": "failed",
    "activity_task_timed_out_event_attributes": "timed_out",
    "activity_task_canceled_event_attributes": "canceled",
}
_RUN_END = {
    "workflow_execution_completed_event_attributes",
    "workflow_execution_failed_event_attributes",
    "workflow_execution_timed_out_event_attributes",
    "workflow_execution_canceled_event_attributes",
    "workflow_execution_terminated_event_attributes",
    "workflow_execution_continued_as_new_event_attributes",
    "workflow_execution_cancel_requested_event_attributes",
}


@dataclass
class _Step:
    scheduled_id: int
    label: str
    task_id: int  # the WorkflowTaskCompleted event that scheduled it
    outcome: str = "scheduled"
    closed_id: int | None = None


@dataclass
class ResetPlan:
    """Where a retry resets to and what it reuses.

    Attributes:
        event_id: The WorkflowTaskCompleted event to reset to.
        reused: Steps whose recorded results the new run replays (not executed again).
        rerun: Steps the reset discards; they run again when the workflow reaches them.
    """

    event_id: int
    reused: list[str] = field(default_factory=list)
    rerun: list[str] = field(default_factory=list)


def step_label(event: HistoryEvent) -> str:
    """``spawn_subagent(role)`` for model steps (role from the input), else the activity name."""
    attrs = event.activity_task_scheduled_event_attributes
    name = attrs.activity_type.name
    payloads = attrs.input.payloads
    if payloads and payloads[0].metadata.get("encoding") == b"json/plain":
        try:
            data = json.loads(payloads[0].data)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("role"), str) and data["role"]:
            return f"{name}({data['role']})"
    return name


def plan_reset(events: Iterable[HistoryEvent]) -> ResetPlan:
    """Choose the reset point of a closed run from its history events.

    Raises:
        UsageError: The history has no workflow task to reset to.
    """
    steps: dict[int, _Step] = {}
    tasks: list[int] = []
    end: int | None = None
    last = 0
    for event in events:
        last = event.event_id
        kind = event.WhichOneof("attributes")
        if kind == "workflow_task_completed_event_attributes":
            tasks.append(event.event_id)
        elif kind == "activity_task_scheduled_event_attributes":
            steps[event.event_id] = _Step(
                event.event_id, step_label(event),
                event.activity_task_scheduled_event_attributes.workflow_task_completed_event_id,
            )
        elif kind in _ACTIVITY_CLOSED:
            step = steps.get(getattr(event, kind).scheduled_event_id)
            if step is not None:
                step.outcome, step.closed_id = _ACTIVITY_CLOSED[kind], event.event_id
        elif kind in _RUN_END and end is None:
            end = event.event_id
    cutoff = end if end is not None else last + 1
    before = [s for s in sorted(steps.values(), key=lambda s: s.scheduled_id)
              if s.scheduled_id < cutoff]
    unfinished = [s for s in before if not _done_before(s, cutoff)]
    if unfinished:
        point = unfinished[0].task_id
    else:
        candidates = [t for t in tasks if t < cutoff]
        if not candidates:
            raise UsageError("The run ended before its first step; launch it again instead.")
        point = candidates[-1]
    reused = [s for s in before if _done_before(s, point)]
    return ResetPlan(
        event_id=point,
        reused=[s.label for s in reused],
        rerun=[s.label for s in before if s not in reused],
    )


def _done_before(step: _Step, event_id: int) -> bool:
    return step.outcome == "completed" and step.closed_id is not None and step.closed_id < event_id


async def retry(
    client: Client,
    run_id: str,
    *,
    local: reach.Local | None = None,
    wait: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Reset a failed, timed-out, cancelled or terminated run to re-drive it.

    Args:
        client: A connected Temporal client.
        run_id: Sagaflow's run id (the workflow id).
        local: This home, to start its worker first when none is alive.
        wait: Await the new attempt's result.
        progress: Progress sink while waiting.

    Returns:
        ``run_id``, ``previous_status``, the old and new Temporal run ids, the reset
        event, the ``reused`` and ``rerun`` step lists, and ``result`` when waited.

    Raises:
        RunNotFoundError: No run has that id.
        UsageError: The run is still running or completed.
        TemporalError: Temporal refused the reset.
    """
    check_run_id(run_id)
    handle = client.get_workflow_handle(run_id)
    desc = await runs.describe(handle)
    status = reach.status_name(desc.status)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        raise UsageError(
            f"Run {run_id} is still running; retry re-drives failed, timed-out, cancelled "
            "or terminated runs."
        )
    if desc.status not in RETRYABLE:
        raise UsageError(f"Run {run_id} {status}; nothing to retry.")
    events = [ev async for ev in client.get_workflow_handle(
        run_id, run_id=desc.run_id).fetch_history_events()]
    if desc.status == WorkflowExecutionStatus.TIMED_OUT or _hit_run_timeout(events):
        raise UsageError(
            f"Run {run_id} hit its --timeout, and a retry keeps the original deadline; start it "
            f"afresh with 'sagaflow launch SKILL --id {run_id} --if-exists replace' (its arguments "
            f"are in 'sagaflow show {run_id}')."
        )
    plan = plan_reset(events)
    await reach.ensure_worker(desc, local)
    try:
        response = await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=run_id, run_id=desc.run_id),
                reason=f"sagaflow retry by {reach.default_user()}",
                workflow_task_finish_event_id=plan.event_id,
                request_id=str(uuid.uuid4()),
                identity=client.identity,
            )
        )
    except RPCError as exc:
        first = (str(exc).splitlines() or [""])[0][:200]
        raise TemporalError(
            f"Temporal refused to reset run {run_id} ({first}); see it with "
            f"'sagaflow show {run_id}'.",
            retryable=False,
        ) from None
    outcome: dict[str, Any] = {
        "run_id": run_id,
        "previous_status": status,
        "previous_temporal_run": desc.run_id,
        "temporal_run": response.run_id,
        "reset_event_id": plan.event_id,
        "reused": plan.reused,
        "rerun": plan.rerun,
    }
    if wait:
        new = client.get_workflow_handle(run_id, run_id=response.run_id)
        outcome["result"] = await runs.await_result(new, progress)
    return outcome


def _hit_run_timeout(events: list[Any]) -> bool:
    """Whether the run failed because its whole-run ``--timeout`` expired."""
    for event in reversed(events):
        if event.HasField("workflow_execution_failed_event_attributes"):
            failure = event.workflow_execution_failed_event_attributes.failure
            return bool(failure.application_failure_info.type == "RunTimeout")
    return False
