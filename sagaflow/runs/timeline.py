"""One run's timeline (``sagaflow show``) from one history pass plus ``describe``.

:func:`build_timeline` returns a :class:`Timeline` (a JSON-ready TypedDict) of stable shape::

    run_id, workflow_run_id, skill, workflow_type, task_queue
    build         the build the run is pinned to (Temporal's versioning info; None when
                  unversioned): its code is ``<home>/builds/<build>/``
    status        Temporal's: running | completed | failed | canceled | terminated |
                  timed_out | continued_as_new
    state         SagaflowState search attribute (None when never set); the status once closed
    waiting_on    what an open run waits on: the sagaflow_status query's answer, or
                  the SagaflowWaiting search attribute when no worker answers ("" = nothing)
    worker        "" or, for a running run no worker serves, "waiting for a worker of pool P
                  (none polling since T); start one with '...'" (set by the CLI, which
                  knows the home: :func:`sagaflow.runs.pools.waiting_notes`)
    paused        while paused: {by, reason, at} (``sagaflow pause --by/--reason``), else None
    args, started, closed (ISO, local time), duration_seconds
    cost_usd      sum of the steps' cost_usd (None when no step reported a cost)
    reported_cost_usd   SagaflowCostUsd search attribute (None when unset)
    tokens        {input_tokens, output_tokens, cache_creation_input_tokens,
                  cache_read_input_tokens, total}
    result, failure     the run's result (completed) or failure reason (failed, ...)
    steps_done    number of completed steps
    steps         list of steps (below), in schedule order
    framework     local activities (sagaflow_finalize_run, ...): [{type, time}]
    workflow_errors     workflow task failures (a bug or non-determinism in skill code)
    signals       names of the signals received, in order
    pending_gates open gates from the query ([] when closed or no worker answered)
    decisions     gate decisions: from the query for an open run, from the history's
                  sagaflow_decide update events for a closed one (decisions a gate took
                  by its timeout leave no update event, so they appear only while open)
    decisions_source    "query" | "history"
    blocked       why an open run cannot progress on the code serving it (its workflow
                  task fails with a nondeterminism error: code changed incompatibly),
                  else None

Each step (:class:`Step`)::

    id (activity id), type, role (spawn_subagent's role, else None),
    status        scheduled | running | pending_retry | completed | failed |
                  timed_out | canceled
    scheduled, started, closed (ISO), offset_seconds (from run start),
    duration_seconds    closed - scheduled (so far, for an open step)
    attempts, error (the last failure's message), next_retry (ISO), next_retry_in_seconds,
    model, input_tokens, output_tokens, cache_creation_input_tokens,
    cache_read_input_tokens, cost_usd   (from the step's ModelStepResult; None otherwise)
    stop_reason   why the model stopped (end_turn, max_tokens, ...; None for other steps
                  and for steps recorded before sagaflow kept it)

:class:`~sagaflow.runs.historyfold.HistoryFold` does the history pass;
:mod:`sagaflow.runs.follow` feeds it the same events live.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, cast

from sagaflow._engine import meta
from sagaflow.runrecord import check_run_id
from sagaflow.runs import missing
from sagaflow.runs.historyfold import HistoryFold, iso

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

QUERY_TIMEOUT = timedelta(seconds=1)


class Tokens(TypedDict):
    """Token counts summed over a run's model calls."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    total: int


class Step(TypedDict):
    """One activity of the run (fields in the module docstring; times local ISO)."""

    id: str
    type: str
    role: str | None
    status: str
    scheduled: str | None
    started: str | None
    closed: str | None
    offset_seconds: float | None
    duration_seconds: float | None
    attempts: int
    error: str | None
    next_retry: str | None
    next_retry_in_seconds: float | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None
    cost_usd: float | None
    stop_reason: str | None


class Framework(TypedDict):
    """A framework local activity (``sagaflow_finalize_run`` ...) and when it ran."""

    type: str
    time: str | None


class Timeline(TypedDict):
    """``show``'s data and ``show --json``'s object (fields in the module docstring)."""

    run_id: str
    workflow_run_id: str | None
    skill: str | None
    workflow_type: str | None
    task_queue: str | None
    build: str | None
    status: str
    args: dict[str, Any]
    started: str | None
    closed: str | None
    result: Any
    failure: str | None
    state: str | None
    waiting_on: str
    worker: str
    paused: dict[str, str] | None
    duration_seconds: float | None
    cost_usd: float | None
    reported_cost_usd: float | None
    tokens: Tokens
    steps_done: int
    steps: list[Step]
    framework: list[Framework]
    workflow_errors: list[str]
    signals: list[str]
    pending_gates: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    decisions_source: str
    blocked: str | None
    agent: dict[str, Any] | None  # a SKILL.md run: turns, tool_calls, todos, question, transcript

#: WorkflowExecutionStatus values of an open run (1 running; 0 unspecified, as while starting)
_OPEN = (0, 1)
_PENDING_STATES = {1: "scheduled", 2: "running", 3: "running", 4: "paused", 5: "running"}


def overlay_pending(fold: HistoryFold, pending: Any, now: datetime) -> None:
    """Attempts, last failure and next retry of open steps from ``describe``."""
    by_id = {s["id"]: s for s in fold.open_steps}
    for act in pending:
        step = by_id.get(act.activity_id)
        if step is None:
            continue
        step["attempts"] = max(step["attempts"], act.attempt)
        step["status"] = _PENDING_STATES.get(int(act.state), "scheduled")
        if act.HasField("last_failure") and act.last_failure.message:
            step["error"] = act.last_failure.message
        if act.HasField("last_started_time") and step["status"] == "running":
            step["started"] = iso(act.last_started_time.ToDatetime(tzinfo=UTC))
        if act.HasField("next_attempt_schedule_time") and step["status"] == "scheduled" and act.attempt > 1:
            nxt = act.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
            step.update(status="pending_retry", next_retry=iso(nxt),
                        next_retry_in_seconds=round(max(0.0, (nxt - now).total_seconds()), 1))
    for step in fold.open_steps:
        scheduled = datetime.fromisoformat(step["scheduled"])
        step["duration_seconds"] = round((now - scheduled).total_seconds(), 3)


async def _paused(desc: Any, status: dict[str, Any] | None) -> dict[str, str] | None:
    """Who paused the run and why: the status query's answer, else the run's memo.

    Asked whatever the run's state: a run paused while it waits (on a gate, its budget)
    stays ``waiting`` and is paused too."""
    if status is not None:
        if not status.get("paused"):
            return None
        return {"by": status.get("paused_by") or "", "reason": status.get("pause_reason") or "",
                "at": status.get("paused_at") or ""}
    info = (await desc.memo()).get(meta.MEMO_PAUSE)
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else None


async def _status_query(handle: WorkflowHandle[Any, Any]) -> dict[str, Any] | None:
    from dataclasses import asdict

    from sagaflow._engine.control_types import RunStatus

    try:
        status = await handle.query(meta.QUERY_STATUS, result_type=RunStatus, rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # no worker, no such query (older worker), or a timeout
        return None
    return asdict(status) if isinstance(status, RunStatus) else None


async def _agent_query(handle: WorkflowHandle[Any, Any]) -> dict[str, Any] | None:
    """A SKILL.md run's ``sagaflow_agent`` answer (turns, todos, question), None if none."""
    from dataclasses import asdict

    from sagaflow.agent import QUERY_AGENT
    from sagaflow.agent.types import AgentStatus

    try:
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus, rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # no worker, or a timeout
        return None
    return asdict(status) if isinstance(status, AgentStatus) else None


async def _fold_history(handle: WorkflowHandle[Any, Any], fold: HistoryFold) -> None:
    async for event in handle.fetch_history_events():
        await fold.feed(event)


async def build_timeline(client: Client, run_id: str) -> Timeline:
    """The run's timeline (shape in the module docstring).

    Raises:
        RunNotFoundError: when Temporal has no run with that id.
        UsageError: ``run_id`` is not a usable id.
    """
    from sagaflow._engine.versioning import build_of

    check_run_id(run_id)
    handle = client.get_workflow_handle(run_id)
    fold = HistoryFold(client.data_converter, run_id)
    with missing.run(run_id):
        desc, _ = await asyncio.gather(handle.describe(), _fold_history(handle, fold))
    now = datetime.now(UTC)
    raw = desc.raw_description
    overlay_pending(fold, raw.pending_activities, now)
    search = dict(fold.search)
    for pair in desc.typed_search_attributes:
        search[pair.key.name] = pair.value
    is_open = fold.closed_at is None
    stuck = None
    if is_open and raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt > 1:
        from sagaflow._engine.blocked import blocked

        stuck = await blocked(client, run_id)
    # a blocked run's query would fail the same way as its workflow task
    status = await _status_query(handle) if is_open and stuck is None else None
    waiting = (status or {}).get("waiting_on") if status else search.get(meta.SA_WAITING)
    run = fold.run
    steps = cast("list[Step]", sorted(fold.steps.values(), key=lambda s: s["scheduled"] or ""))
    from sagaflow.agent import AGENT_WORKFLOW

    agent = await _agent_query(handle) if run["workflow_type"] == AGENT_WORKFLOW else None
    cost = search.get(meta.SA_COST)
    state = search.get(meta.SA_STATE)
    return {
        "run_id": run["run_id"], "workflow_run_id": run["workflow_run_id"], "skill": run["skill"],
        "workflow_type": run["workflow_type"], "task_queue": run["task_queue"],
        "build": build_of(desc, None),
        "status": desc.status.name.lower() if desc.status else run["status"],
        "args": run["args"], "started": run["started"], "closed": run["closed"],
        "result": run["result"], "failure": run["failure"],
        # Temporal's status wins for a closed run: its last SagaflowState may be stale
        "state": (None if state is None else str(state)) if desc.status in _OPEN else (
            desc.status.name.lower() if desc.status else None),
        "waiting_on": str(waiting or "") if is_open else "",
        "worker": "",
        "paused": await _paused(desc, status) if is_open else None,
        "duration_seconds": fold.duration(now), "cost_usd": fold.cost,
        "reported_cost_usd": float(cost) if isinstance(cost, int | float) else None,
        "tokens": cast(Tokens, fold.totals()["tokens"]),
        "steps_done": sum(1 for s in steps if s["status"] == "completed"), "steps": steps,
        "framework": cast("list[Framework]", fold.framework),
        "workflow_errors": fold.workflow_errors, "signals": fold.signals,
        "pending_gates": (status or {}).get("pending", []),
        "decisions": status["decisions"] if status else fold.decisions,
        "decisions_source": "query" if status else "history",
        "blocked": stuck.reason(str(run["skill"] or run["workflow_type"])) if stuck else None,
        "agent": agent,
    }
