"""``sagaflow retry``: re-drive a run that ended without a result, paying only for what failed.

A retry is a Temporal *reset* of the run's last Temporal run: the new run keeps
the history up to the reset point, so every step that completed before it is
replayed from its recorded result (a completed model call is not made, nor paid
for, again), and the workflow id (sagaflow's run id) stays the same.

The reset point is the workflow task that scheduled the earliest step that did
not complete, or, when every step completed, the last workflow task before the
run ended. A cancellation counts as the end: the point lies before the cancel
request, which Temporal does not carry over to the new run. So does the firing of
the whole-run ``--timeout``: a retry restarts that deadline (a signal right after
the reset, which the workflow interceptor honours; Temporal's own execution
timeout restarts with the reset). Signals sent after the point are re-applied
(Temporal's default); updates (approve, reject, pause) are not: a rejection re-applied
failed the retry at once for the same reason, so the retried run asks again instead.

A retry that cannot work says so in one sentence (:mod:`sagaflow.runs.retryfaults`):
``retry`` watches the new attempt's first workflow task, so a skill whose code
changed is reported at once, not left looking open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResetReapplyExcludeType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from sagaflow._engine import meta
from sagaflow.errors import UsageError
from sagaflow.runrecord import check_run_id
from sagaflow.runs import reach, retryfaults
from sagaflow.runs import start as runs
from sagaflow.runs.start import RunFailedError

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


def plan_reset(events: Iterable[HistoryEvent], deadline_seconds: float | None = None) -> ResetPlan:
    """Choose the reset point of a closed run from its history events.

    Args:
        events: The history of the run's last Temporal run.
        deadline_seconds: The run's whole-run ``--timeout``: its timer firing counts
            as the run's end, so the new attempt resumes before the deadline passed
            (and ``retry`` restarts it).

    Raises:
        UsageError: The history has no workflow task to reset to.
    """
    steps: dict[int, _Step] = {}
    tasks: list[int] = []
    deadline_timers: set[str] = set()
    end: int | None = None
    last = 0
    for event in events:
        last = event.event_id
        kind = event.WhichOneof("attributes")
        if kind == "timer_started_event_attributes" and deadline_seconds:
            timer = event.timer_started_event_attributes
            if abs(timer.start_to_fire_timeout.ToTimedelta().total_seconds() - deadline_seconds) < 1e-3:
                deadline_timers.add(timer.timer_id)
        elif kind == "timer_fired_event_attributes" and end is None:
            if event.timer_fired_event_attributes.timer_id in deadline_timers:
                end = event.event_id
        elif kind == "workflow_task_completed_event_attributes":
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
        event, the ``reused`` and ``rerun`` step lists, ``worker`` (None, or the note
        ``waiting for a worker of pool P ...`` when none serves the run's pool), and
        ``result`` when waited.

    Raises:
        RunNotFoundError: No run has that id.
        UsageError: The run is still running or completed.
        TemporalError: Temporal refused the reset, or the new attempt cannot replay
            on the current skill code (one sentence each, see :mod:`retryfaults`).
        RunFailedError: With ``wait``, the new attempt failed.
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
    memo = await desc.memo()
    skill = str(memo.get(meta.MEMO_SKILL) or desc.workflow_type)
    again = retryfaults.relaunch_words(memo)  # a suggested fresh launch repeats the run's own
    options = memo.get(meta.MEMO_OPTIONS)
    deadline = options.get("timeout_seconds") if isinstance(options, dict) else None
    deadline = float(deadline) if isinstance(deadline, int | float) and deadline > 0 else None
    plan = plan_reset(events, deadline)
    await reach.ensure_worker(desc, local)
    try:
        response = await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=run_id, run_id=desc.run_id),
                reason=f"sagaflow retry by {reach.default_user()}",
                workflow_task_finish_event_id=plan.event_id,
                # decisions are asked again, not replayed (a re-applied reject re-fails)
                reset_reapply_exclude_types=[
                    ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
                request_id=str(uuid.uuid4()),
                identity=client.identity,
            )
        )
    except RPCError as exc:
        raise retryfaults.reset_refused(run_id, skill, exc, again) from None
    if deadline:  # the whole-run --timeout starts over (Temporal 1.32 has no post-reset signal)
        try:
            await client.get_workflow_handle(run_id, run_id=response.run_id).signal(
                meta.SIGNAL_RESTART_DEADLINE
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: the attempt already ended
                raise retryfaults.reset_refused(run_id, skill, exc, again) from None
    unserved = await _unserved(client, desc.task_queue, local)
    if unserved is None:
        await retryfaults.first_task(client, run_id, response.run_id, plan.event_id, skill,
                                     again=again)
    elif progress is not None:  # nobody would take the first task: say so, do not wait for it
        progress(unserved)
    outcome: dict[str, Any] = {
        "run_id": run_id,
        "previous_status": status,
        "previous_temporal_run": desc.run_id,
        "temporal_run": response.run_id,
        "reset_event_id": plan.event_id,
        "reused": plan.reused,
        "rerun": plan.rerun,
        "worker": unserved,
    }
    if wait:
        new = client.get_workflow_handle(run_id, run_id=response.run_id)
        try:
            outcome["result"] = await runs.await_result(new, progress)
        except RunFailedError as exc:
            if retryfaults.is_nondeterminism(exc.message):
                raise retryfaults.code_changed(run_id, skill, again) from None
            raise
    return outcome


async def _unserved(client: Client, task_queue: str, local: reach.Local | None) -> str | None:
    """The waiting note when no worker serves the run's pool (this home only), else None."""
    if local is None:
        return None
    from sagaflow.runs.pools import waiting_notes

    notes = await waiting_notes(client, local.settings, local.home, {task_queue})
    return notes.get(task_queue)
