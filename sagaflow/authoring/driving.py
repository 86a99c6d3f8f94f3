"""Driving an offline run: giving a case's answers when it waits, reading what it did.

On Temporal's time-skipping test server, time stands still unless a client waits
on a result (or calls ``env.sleep``). :func:`answer_all` polls the run at real speed
and gives each answer once the run's status query shows it waiting on that gate or
signal. While the run is *idle* (no step, workflow task or child run in flight) it
can only be waiting on a timer or on an answer; if the status shows no gate, the
clock is moved to the run's next timer (a durable ``sleep``) so the run reaches its
gate without the gate's own timeout ever being skipped. A signal is given instead of
moving the clock (the run keeps it until it waits for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from sagaflow._engine import meta
from sagaflow._engine.control_types import Decision, DecisionRequest, RunStatus
from sagaflow.authoring.cases import Answer
from sagaflow.errors import SagaflowError

#: real seconds between looks at a run that has not reached its next answer
POLL = 0.02


class Stuck(SagaflowError):
    """A run cannot take the case's next answer (it waits on something else, or on
    nothing before the case's time runs out).

    Attributes:
        reason: One phrase for the case's report.
        waiting_on: What the run waits on (the status query's ``waiting_on``).
    """

    def __init__(self, reason: str, waiting_on: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.waiting_on = waiting_on


async def status_of(handle: WorkflowHandle[Any, Any]) -> RunStatus | None:
    """The run's ``sagaflow_status`` answer, or None when it cannot answer (closed)."""
    try:
        status: RunStatus = await handle.query(meta.QUERY_STATUS, result_type=RunStatus)
    except Exception:  # a run that ended, or one that never installed the control plane
        return None
    return status


async def _status_now(handle: WorkflowHandle[Any, Any]) -> tuple[bool, RunStatus | None]:
    """``(answered, status)``: like :func:`status_of`, but ``answered`` is False when the
    query failed for a reason that passes (an RPC timeout on a busy machine), so the
    caller looks again instead of taking "no status" for "waits on nothing" and skipping
    the clock past a gate's or signal's own timeout."""
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return True, await handle.query(meta.QUERY_STATUS, result_type=RunStatus)
    except WorkflowQueryFailedError:  # no control plane, or its handler failed: for good
        return True, None
    except RPCError as exc:
        final = exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT,
                               RPCStatusCode.FAILED_PRECONDITION)
        return final, None
    except TimeoutError:
        return False, None
    except Exception:  # as status_of: a run that cannot answer
        return True, None


def _wanted(answer: Answer, status: RunStatus) -> bool:
    if answer.kind == "signal":
        return answer.target in status.signals_waiting
    return any(gate.step == answer.target for gate in status.pending)


async def give(handle: WorkflowHandle[Any, Any], answer: Answer) -> None:
    """Send ``answer`` to the run (a validated decision update, or a signal).

    Raises:
        Stuck: The run refused the decision (its validator said why).
    """
    if answer.kind == "signal":
        if answer.has_payload:
            await handle.signal(answer.target, answer.payload)
        else:
            await handle.signal(answer.target)
        return
    request = DecisionRequest(approved=answer.kind == "approve", step=answer.target,
                              by=answer.by, comment=answer.comment, reason=answer.reason)
    try:
        await handle.execute_update(meta.UPDATE_DECIDE, request, result_type=Decision)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise Stuck(f"the run refused {answer.describe()} (line {answer.line}): "
                    f"{getattr(cause, 'message', cause)}") from None


async def _next_timer(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> float | None:
    """Seconds until the run's earliest pending timer fires (None: no timer pending)."""
    history = await handle.fetch_history()
    fires: dict[int, float] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started = event.event_time.ToDatetime().timestamp()
            span = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            fires[event.event_id] = started + span.total_seconds()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            fires.pop(event.timer_fired_event_attributes.started_event_id, None)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            fires.pop(event.timer_canceled_event_attributes.started_event_id, None)
    if not fires:
        return None
    now = (await env.get_current_time()).timestamp()
    return max(0.001, min(fires.values()) - now)


async def _answer_one(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], answer: Answer,
                      deadline: float) -> str | None:
    """Give ``answer`` once the run waits on it; a note when the run ended first."""
    while True:
        desc = await handle.describe()
        if desc.status != WorkflowExecutionStatus.RUNNING:
            return f"answer {answer.describe()} (line {answer.line}) was never asked for: the run ended first"
        raw = desc.raw_description
        idle = not (raw.pending_activities or raw.pending_children
                    or raw.HasField("pending_workflow_task"))
        answered, status = await _status_now(handle)
        if not answered and time.monotonic() <= deadline:
            await asyncio.sleep(POLL)
            continue
        if status is not None and _wanted(answer, status):
            await give(handle, answer)
            return None
        if status is not None and (status.pending or status.signals_waiting
                                   or status.waiting_on.startswith("question")):
            raise Stuck(f"the run waits on {status.waiting_on}, but the next answer is "
                        f"{answer.describe()} (line {answer.line})", status.waiting_on)
        if idle:
            if answer.kind == "signal":
                # Temporal keeps a signal and the control plane buffers it until the run
                # waits for it: give it rather than move the clock, which could fire the
                # wait's own timeout first (the status can lag the wait: 1 run in 8 failed
                # so under load)
                await give(handle, answer)
                return None
            wait = await _next_timer(env, handle)
            if wait is not None:
                await env.sleep(wait)
        if time.monotonic() > deadline:
            waiting = status.waiting_on if status else ""
            raise Stuck(f"the run never waited on {answer.describe()} (line {answer.line})"
                        + (f"; it waits on {waiting}" if waiting else ""), waiting)
        await asyncio.sleep(POLL)


async def answer_all(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any],
                     answers: Sequence[Answer], deadline: float) -> list[str]:
    """Give every answer in order (see the module docstring).

    Returns:
        Notes on answers never asked for (the run ended first).

    Raises:
        Stuck: The run waits on something else than the next answer, or not in time.
    """
    for i, answer in enumerate(answers):
        note = await _answer_one(env, handle, answer, deadline)
        if note is not None:
            rest = len(answers) - i - 1
            return [note + (f" ({rest} later answers unused)" if rest else "")]
    return []


async def steps_of(client: Client, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Activity names the run scheduled, in order, through its continue-as-new chain."""
    names: list[str] = []
    run_id: str | None = handle.first_execution_run_id or handle.result_run_id
    seen: set[str] = set()
    while run_id and run_id not in seen:
        seen.add(run_id)
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        run_id = None
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return names


async def retrying(handle: WorkflowHandle[Any, Any]) -> str:
    """What keeps a run that did not finish busy: ``activity NAME is retrying (attempt N:
    last failure)`` for each pending activity that failed before ("" when none did).

    A step that fails with a retryable error is retried by Temporal without end (the
    default retry policy has no attempt limit), so a case would only say its time ran out.
    """
    with contextlib.suppress(Exception):  # best effort: the run may have ended meanwhile
        raw = (await handle.describe()).raw_description
        found = []
        for act in raw.pending_activities:
            if act.attempt > 1 or act.HasField("last_failure"):
                why = " ".join(act.last_failure.message.split())[:200]
                found.append(f"activity {act.activity_type.name} is retrying (attempt "
                             f"{act.attempt}{': ' + why if why else ''})")
        return "; ".join(found)
    return ""
