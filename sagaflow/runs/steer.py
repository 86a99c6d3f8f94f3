"""Steering open runs: cancel, terminate, signal, approve, reject, pause, unpause.

Each command checks the run first (an unknown id is a :class:`RunNotFoundError`,
a closed run one :class:`UsageError` line), sends one Temporal request and
returns a small dict the CLI renders (``--json`` prints it as is). Approvals and
pauses go through the run's validated updates after a status query (see
:mod:`sagaflow.runs.reach` for the worker and deadline handling).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from sagaflow._engine import meta
from sagaflow._engine.control_types import BUDGET, DecisionRequest, Gate, PauseRequest, RunStatus
from sagaflow.errors import UsageError
from sagaflow.runs.reach import (
    Local,
    default_user,
    ensure_worker,
    open_run,
    query_status,
    send_update,
)

__all__ = ["Local", "approve", "cancel", "pause", "reject", "signal", "terminate", "unpause"]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _running_steps(desc: WorkflowExecutionDescription) -> list[str]:
    return [act.activity_type.name for act in desc.raw_description.pending_activities]


def pick_gate(
    run_id: str, status: RunStatus, step: str, running: list[str], budget: bool = False
) -> Gate:
    """The pending gate a decision is for.

    Args:
        run_id: For messages.
        status: The run's status query answer.
        step: The gate asked for (``--step``), or ``""`` for the only one.
        running: Steps (activities) the run is executing, for messages.
        budget: Prefer the budget gate when no step is given (``--extend-budget``).

    Raises:
        UsageError: Nothing is pending, the step is not pending, or the choice is ambiguous.
    """
    pending = list(status.pending)
    if not pending:
        if status.paused:
            where = "it is paused"
        elif status.waiting_on:
            where = f"it waits on {status.waiting_on}"
        elif running:
            where = f"it is running step {', '.join(running)}"
        else:
            where = "it is running"
        raise UsageError(f"Run {run_id} is not waiting on an approval; {where}.")
    names = ", ".join(g.step for g in pending)
    if step:
        for gate in pending:
            if gate.step == step:
                return gate
        raise UsageError(f"Run {run_id} does not wait on step {step!r}; it waits on {names}.")
    if len(pending) == 1:
        return pending[0]
    budgets = [g for g in pending if g.kind == BUDGET]
    if budget and len(budgets) == 1:
        return budgets[0]
    raise UsageError(f"Run {run_id} waits on steps {names}; pick one with --step.")


async def _open_or_retire(
    client: Client, run_id: str, verb: str, local: Local | None
) -> WorkflowExecutionDescription:
    """:func:`open_run`; a closed run's entries that still ask for an action are retired
    (the command the inbox gave fails once, and the entry stops offering it)."""
    try:
        return await open_run(client, run_id, verb)
    except UsageError:
        if local is not None:
            from sagaflow.runs.inboxsync import reconcile

            await reconcile(client, local.home, [run_id])
        raise


async def _decide(
    client: Client, run_id: str, request: DecisionRequest, verb: str, local: Local | None
) -> dict[str, Any]:
    desc = await _open_or_retire(client, run_id, verb, local)
    await ensure_worker(desc, local)
    status = await query_status(client, run_id, desc, local)
    gate = pick_gate(
        run_id, status, request.step, _running_steps(desc), budget=request.extend_budget_usd > 0
    )
    request.step = gate.step
    decision = await send_update(
        client.get_workflow_handle(run_id), meta.UPDATE_DECIDE, request, desc, local
    )
    return {
        "run_id": run_id,
        "action": "approved" if request.approved else "rejected",
        "step": gate.step,
        "kind": gate.kind,
        "by": request.by,
        "comment": request.comment,
        "reason": request.reason,
        "extend_budget_usd": request.extend_budget_usd or None,
        "decision": _plain(decision),
    }


async def approve(
    client: Client,
    run_id: str,
    step: str = "",
    comment: str = "",
    by: str = "",
    extend_budget_usd: float | None = None,
    *,
    local: Local | None = None,
) -> dict[str, Any]:
    """Approve a pending gate (``--extend-budget`` answers a budget gate).

    Raises:
        UsageError: Negative budget, closed run, nothing pending, or the run refused it.
    """
    if extend_budget_usd is not None and not extend_budget_usd > 0:
        raise UsageError(
            f"--extend-budget must be more than zero (got {extend_budget_usd:g}); "
            "give the extra dollars, e.g. --extend-budget 1.00."
        )
    request = DecisionRequest(
        approved=True, step=step, by=by or default_user(), comment=comment,
        extend_budget_usd=extend_budget_usd or 0.0,
    )
    return await _decide(client, run_id, request, "approve", local)


async def reject(
    client: Client,
    run_id: str,
    step: str = "",
    reason: str = "",
    by: str = "",
    *,
    local: Local | None = None,
) -> dict[str, Any]:
    """Reject a pending gate, saying why.

    Raises:
        UsageError: No reason, closed run, nothing pending, or the run refused it.
    """
    if not reason.strip():
        raise UsageError("reject needs a reason; say why with --reason '...'.")
    request = DecisionRequest(approved=False, step=step, by=by or default_user(), reason=reason)
    return await _decide(client, run_id, request, "reject", local)


async def _set_paused(
    client: Client, run_id: str, paused: bool, reason: str, by: str, local: Local | None
) -> dict[str, Any]:
    verb = "pause" if paused else "unpause"
    desc = await open_run(client, run_id, verb)
    await ensure_worker(desc, local)
    status = await query_status(client, run_id, desc, local)
    if paused and status.paused:
        raise UsageError(f"Run {run_id} is already paused; resume it with 'sagaflow unpause {run_id}'.")
    if not paused and not status.paused:
        raise UsageError(f"Run {run_id} is not paused; nothing to unpause.")
    request = PauseRequest(paused=paused, by=by or default_user(), reason=reason)
    await send_update(client.get_workflow_handle(run_id), meta.UPDATE_PAUSE, request, desc, local)
    return {
        "run_id": run_id, "action": "paused" if paused else "unpaused",
        "by": request.by, "reason": reason,
    }


async def pause(
    client: Client, run_id: str, reason: str = "", by: str = "", *, local: Local | None = None
) -> dict[str, Any]:
    """Stop the run before its next step (the step in flight finishes)."""
    return await _set_paused(client, run_id, True, reason, by, local)


async def unpause(
    client: Client, run_id: str, reason: str = "", by: str = "", *, local: Local | None = None
) -> dict[str, Any]:
    """Let a paused run go on."""
    return await _set_paused(client, run_id, False, reason, by, local)


async def cancel(
    client: Client, run_id: str, reason: str = "", *, local: Local | None = None
) -> dict[str, Any]:
    """Ask the run to cancel: it gets a CancelledError and its compensations run."""
    desc = await open_run(client, run_id, "cancel")
    await ensure_worker(desc, local)  # compensations need a worker
    await client.get_workflow_handle(run_id).cancel(reason=reason)
    return {"run_id": run_id, "action": "cancel_requested", "reason": reason}


async def terminate(
    client: Client, run_id: str, reason: str, *, local: Local | None = None
) -> dict[str, Any]:
    """Stop the run at once: no compensation, no code of the run runs again.

    No workflow code runs on a termination, so this retires the run's NEEDS
    APPROVAL entries itself and records a TERMINATED entry with the reason (already
    read) in ``local``'s inbox (default: the current home's).

    Raises:
        UsageError: No reason given, or the run already finished.
    """
    import asyncio

    from sagaflow.paths import Home
    from sagaflow.runs.inboxsync import record_stopped, skill_of

    if not reason.strip():
        raise UsageError("terminate needs a reason; say why with --reason '...'.")
    desc = await open_run(client, run_id, "terminate")
    try:
        await client.get_workflow_handle(run_id, run_id=desc.run_id).terminate(reason=reason)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise UsageError(f"Run {run_id} finished meanwhile; nothing to terminate.") from None
    home = local.home if local is not None else Home.current()
    await asyncio.to_thread(
        record_stopped, home, run_id, skill_of(desc), desc.run_id, "TERMINATED",
        f"terminated: {reason}",
    )
    return {"run_id": run_id, "action": "terminated", "reason": reason}


def parse_payload(text: str | None) -> tuple[bool, Any]:
    """``(given, value)`` for a signal's JSON argument.

    Raises:
        UsageError: The text is not JSON (naming where the parser stopped).
    """
    if text is None:
        return False, None
    try:
        return True, json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"The signal payload is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}); quote it for the shell, e.g. '{{\"ok\": true}}'."
        ) from None


async def signal(
    client: Client, run_id: str, name: str, payload_json: str | None = None
) -> dict[str, Any]:
    """Send signal ``name`` (with the JSON payload, when given) to the run.

    Raises:
        UsageError: Bad JSON, an empty name, or the run already finished.
    """
    given, value = parse_payload(payload_json)
    if not name.strip():
        raise UsageError("The signal name is empty; give one, e.g. 'sagaflow signal RUN go'.")
    await open_run(client, run_id, "signal")
    handle = client.get_workflow_handle(run_id)
    if given:
        await handle.signal(name, value)
    else:
        await handle.signal(name)
    return {"run_id": run_id, "action": "signalled", "signal": name, "payload": value}
