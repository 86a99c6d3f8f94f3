"""``sagaflow list``: runs from Temporal visibility, filtered by search attributes.

The scope is every run of this home: its base task queue and its pools' queues
(``<base>-pool-<name>``, see :func:`sagaflow._engine.meta.pool_queue`), which the
SQLite visibility store of the dev server answers with ``STARTS_WITH``. Each row
is built from the list response alone (search attributes, and the memo only for
runs that predate them): no extra RPC per run, so 1,000 runs are one page.

Query building is pure and lives in :mod:`sagaflow.runs.listquery` (re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from sagaflow._engine import meta
from sagaflow.errors import TemporalError
from sagaflow.runs.listquery import (
    FAILED_QUEUE,
    STATUSES,
    WAITING_STATES,
    RunFilter,
    build_query,
    make_filter,
    parse_statuses,
    quote,
    rfc3339,
    scope_clause,
)
from sagaflow.timestamps import iso as _iso

__all__ = [
    "FAILED_QUEUE", "MAX_PAGE", "STATUSES", "WAITING_STATES", "RunFilter", "RunRow",
    "build_query", "executions", "list_runs", "make_filter", "parse_statuses", "quote",
    "rfc3339", "row_of", "scope_clause", "state_label",
]

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecution

    from sagaflow.config import Settings
    from sagaflow.paths import Home

MAX_PAGE = 1000


class RunRow(TypedDict):
    """One ``list`` row (also ``list --json``'s objects, in this key order).

    Attributes:
        run_id: The workflow id.
        skill: The skill's name.
        status: Temporal's status, lower case (``running``, ``completed``, ...).
        state: ``SagaflowState`` (``running``, ``waiting``, ``paused`` ...) or None while
            open; the ``status`` once closed (Temporal wins over a stale attribute).
        waiting: ``SagaflowWaiting`` (what a parked run waits on) or None; None once closed.
        cost_usd: ``SagaflowCostUsd``, USD spent so far, or None when unknown.
        pool: The worker pool (``default`` for the base queue).
        task_queue: The run's task queue.
        build: The build the run is pinned to (Temporal's ``TemporalWorkerDeploymentVersion``),
            None for an unversioned run.
        started, closed: Local ISO times (seconds); ``closed`` is None while open.
        blocked: True when Temporal reports the open run's workflow task failing with a
            nondeterminism error (``TemporalReportedProblems``): code changed incompatibly.
        worker: For a running run no worker serves: ``waiting for a worker of pool P
            (none polling since T); start one with '...'``; else None.
        paused: While paused, ``{"by", "reason", "at"}`` (``sagaflow pause --by/--reason``),
            else None.
    """

    run_id: str
    skill: str
    status: str
    state: str | None
    waiting: str | None
    cost_usd: float | None
    pool: str
    task_queue: str
    build: str | None
    started: str | None
    closed: str | None
    blocked: bool
    worker: str | None
    paused: dict[str, str] | None


def _attributes(wf: WorkflowExecution) -> dict[str, Any]:
    """Sagaflow's search attributes of one listed run (local decoding, no RPC)."""
    found: dict[str, Any] = {}
    for pair in wf.typed_search_attributes:
        if pair.key.name in meta.SEARCH_ATTRIBUTES or \
                pair.key.name in (meta.REPORTED_PROBLEMS, meta.SA_VERSION):
            found[pair.key.name] = pair.value
    return found


async def row_of(wf: WorkflowExecution, base_queue: str) -> RunRow:
    """One ``list`` row: run id, skill, status, state, waiting, cost, pool, times."""
    attrs = _attributes(wf)
    skill = attrs.get(meta.SA_SKILL)
    if skill is None:  # a run started before search attributes: the memo is in the page
        skill = (await wf.memo()).get(meta.MEMO_SKILL) or wf.workflow_type
    cost = attrs.get(meta.SA_COST)
    status = wf.status.name.lower() if wf.status else "unknown"
    state, waiting = attrs.get(meta.SA_STATE), attrs.get(meta.SA_WAITING)
    if wf.close_time is not None or status != "running":
        # Temporal's status wins for a closed run: its last SagaflowState may be stale
        # (a terminated run, a Temporal timeout, a retry that could not replay).
        state, waiting = status, None
    return {
        "run_id": wf.id,
        "skill": str(skill),
        "status": status,
        "state": None if state is None else str(state),
        "waiting": None if waiting is None else str(waiting),
        "cost_usd": float(cost) if cost is not None else None,
        "pool": meta.pool_of(wf.task_queue, base_queue),
        "task_queue": wf.task_queue,
        "build": meta.build_in(attrs.get(meta.SA_VERSION)),
        "started": _iso(wf.start_time),
        "closed": _iso(wf.close_time),
        "blocked": wf.status is not None and wf.status.name == "RUNNING"
        and meta.NONDETERMINISTIC_PROBLEM in (attrs.get(meta.REPORTED_PROBLEMS) or ()),
        "worker": None,
        # asked whatever the state: a run paused while waiting (gate, budget) is paused too
        "paused": await _paused(wf) if wf.close_time is None else None,
    }


async def _paused(wf: WorkflowExecution) -> dict[str, str] | None:
    """Who paused the run and why, from its memo (decoded locally; no RPC)."""
    info = (await wf.memo()).get(meta.MEMO_PAUSE)
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else None


async def executions(
    client: Client, query: str, limit: int | None, page_size: int | None = None
) -> AsyncIterator[WorkflowExecution]:
    """Listed runs for ``query`` in big pages, turning a rejected query into one clear error.

    ``limit`` caps the executions returned (None: all); ``page_size`` defaults to it.

    Raises:
        TemporalError: When Temporal rejects the query (e.g. unregistered attributes).
    """
    from temporalio.service import RPCError, RPCStatusCode

    page = min(page_size or limit or MAX_PAGE, MAX_PAGE)
    try:
        async for wf in client.list_workflows(query, limit=limit, page_size=page):
            yield wf
    except RPCError as exc:
        if exc.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        from sagaflow._engine.search_attributes import create_command

        first = (str(exc).splitlines() or [""])[0][:200]
        raise TemporalError(
            f"Temporal rejected the run query ({first}); if it names a Sagaflow attribute, "
            f"register them on this cluster with: {create_command(client.namespace)}",
            retryable=False,
        ) from None


async def list_runs(
    client: Client, settings: Settings, flt: RunFilter, home: Home | None = None
) -> list[RunRow]:
    """Rows for ``flt``, one per run id: running runs first, then the most recently closed.

    With ``flt.failed`` the rows are the failed-run queue
    (:func:`sagaflow.runs.failedqueue.failed_queue`; dismissals from ``home``'s inbox).
    With ``home``, a running run whose pool no worker serves says so in ``worker``
    (:func:`sagaflow.runs.pools.waiting_notes`, one task-queue check per pool).
    """
    if flt.failed:
        from sagaflow.runs.failedqueue import failed_queue

        queued = await failed_queue(
            client, settings, home.inbox if home else Path(os.devnull), skill=flt.skill,
            pool=flt.pool, since_seconds=flt.since_seconds,
        )
        rows = [q.row for q in queued if not flt.statuses or q.row["status"] in flt.statuses]
        return rows[:flt.limit] if flt.limit else rows
    query = build_query(settings.task_queue, flt)
    rows = [row async for row in _rows(client, settings.task_queue, query, flt.limit)]
    queues = {r["task_queue"] for r in rows if r["status"] == "running"}
    if home is not None and queues:
        from sagaflow.runs.pools import waiting_notes

        notes = await waiting_notes(client, settings, home, queues)
        for row in rows:
            if row["status"] == "running":
                row["worker"] = notes.get(row["task_queue"])
    return rows


async def _rows(
    client: Client, base_queue: str, query: str, limit: int | None
) -> AsyncIterator[RunRow]:
    """One row per run id: its latest matching execution (Temporal lists open runs first,
    then by close time, newest first), so a retried or replaced run is listed once."""
    seen: set[str] = set()
    async for wf in executions(client, query, None, page_size=limit):
        if wf.id in seen:
            continue
        seen.add(wf.id)
        yield await row_of(wf, base_queue)
        if limit is not None and len(seen) >= limit:
            return


def state_label(row: Mapping[str, Any]) -> str | None:
    """What the table's STATE column says: ``waiting: approval:publish``, ``paused``, ..."""
    if row.get("status") != "running":
        return None
    if row.get("blocked"):
        return f"blocked: code changed incompatibly (sagaflow replay-check {row.get('skill')})"
    if row.get("worker"):
        return str(row["worker"]).split(";", 1)[0]
    state, waiting = row.get("state"), row.get("waiting")
    # "paused: pause" says one thing twice
    label = f"{state}: {waiting}" if state and waiting and waiting != "pause" else state or waiting
    if row.get("paused") and state != "paused":  # paused while it waits on something else
        label = f"{label} (paused)" if label else "paused"
    return label
