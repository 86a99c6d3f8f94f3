"""``sagaflow list``: runs from Temporal visibility, filtered by search attributes.

The scope is every run of this home: its base task queue and its pools' queues
(``<base>-pool-<name>``, see :func:`sagaflow._engine.meta.pool_queue`), which the
SQLite visibility store of the dev server answers with ``STARTS_WITH``. Each row
is built from the list response alone (search attributes, and the memo only for
runs that predate them): no extra RPC per run, so 1,000 runs are one page.

Query building is pure (no temporalio import) so it is validated before connecting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from sagaflow._engine import meta
from sagaflow.durations import parse_duration
from sagaflow.errors import TemporalError, UsageError
from sagaflow.timestamps import iso as _iso

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecution

    from sagaflow.config import Settings

#: ``--status`` value -> Temporal's ExecutionStatus spelling in list queries
STATUSES = {
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "canceled": "Canceled",
    "terminated": "Terminated",
    "timed_out": "TimedOut",
    "continued_as_new": "ContinuedAsNew",
}
_ALIASES = {"cancelled": "canceled", "timedout": "timed_out", "timed-out": "timed_out"}
#: the failed-run queue (what sagewai calls a DLQ): runs that ended without a result
#: on their own. Canceled and terminated runs were stopped on purpose, so they are not in it.
FAILED_QUEUE = ("failed", "timed_out")
#: SagaflowState values of a run parked on a person (an approval, a signal, a pause)
WAITING_STATES = ("waiting", "paused")
MAX_PAGE = 1000


class RunRow(TypedDict):
    """One ``list`` row (also ``list --json``'s objects, in this key order).

    Attributes:
        run_id: The workflow id.
        skill: The skill's name.
        status: Temporal's status, lower case (``running``, ``completed``, ...).
        state: ``SagaflowState`` (``running``, ``waiting``, ``paused`` ...) or None.
        waiting: ``SagaflowWaiting`` (what a parked run waits on) or None.
        cost_usd: ``SagaflowCostUsd``, USD spent so far, or None when unknown.
        pool: The worker pool (``default`` for the base queue).
        task_queue: The run's task queue.
        build: The build the run is pinned to (Temporal's ``TemporalWorkerDeploymentVersion``),
            None for an unversioned run.
        started, closed: Local ISO times (seconds); ``closed`` is None while open.
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


@dataclass(frozen=True)
class RunFilter:
    """What ``list`` (and ``cost``) select; every filter narrows (AND).

    Attributes:
        statuses: Temporal statuses (keys of :data:`STATUSES`); empty means any.
        skill: Only runs of this skill (``SagaflowSkill``).
        since_seconds: Only runs started this many seconds ago or later.
        failed: Only the failed-run queue (:data:`FAILED_QUEUE`).
        waiting: Only running runs parked on an approval, a signal or a pause.
        pool: Only runs on this pool's task queue.
        limit: At most this many rows; ``None`` for all.
    """

    statuses: tuple[str, ...] = ()
    skill: str | None = None
    since_seconds: float | None = None
    failed: bool = False
    waiting: bool = False
    pool: str | None = None
    limit: int | None = 50


def parse_statuses(text: str) -> tuple[str, ...]:
    """``"failed,timed_out"`` -> ``("failed", "timed_out")``.

    Raises:
        UsageError: On an unknown status.
    """
    out: list[str] = []
    for part in text.split(","):
        key = part.strip().lower().replace(" ", "_")
        key = _ALIASES.get(key, key)
        if key not in STATUSES:
            raise UsageError(
                f"Unknown --status {part.strip()!r}; use one of {', '.join(STATUSES)} "
                "(several separated by commas)."
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def make_filter(
    *,
    status: str | None = None,
    skill: str | None = None,
    since: str | None = None,
    failed: bool = False,
    waiting: bool = False,
    pool: str | None = None,
    limit: int | None = 50,
) -> RunFilter:
    """A validated :class:`RunFilter` from command-line values.

    Raises:
        UsageError: On a bad status, duration, limit, skill or pool name.
    """
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be 1 or more, not {limit}.")
    for option, value in (("--skill", skill), ("--pool", pool)):
        if value is not None:
            quote(value, option)
    return RunFilter(
        statuses=parse_statuses(status) if status else (),
        skill=skill,
        since_seconds=parse_duration(since, option="--since") if since else None,
        failed=failed,
        waiting=waiting,
        pool=pool,
        limit=limit,
    )


def quote(value: str, option: str = "value") -> str:
    """``value`` as a visibility-query string literal (quotes doubled).

    Raises:
        UsageError: When the value is empty or holds a backslash or control character,
            which no skill or pool name has and the query language cannot escape reliably.
    """
    if not value or "\\" in value or any(ord(ch) < 32 for ch in value):
        raise UsageError(
            f"{option} {value!r} is not a valid name; use letters, digits, '-', '_' or '.'."
        )
    return "'" + value.replace("'", "''") + "'"


def rfc3339(moment: datetime) -> str:
    """``2026-01-02T03:04:05Z`` (UTC, whole seconds), as visibility queries want."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scope_clause(base_queue: str, pool: str | None = None) -> str:
    """Runs of this home (base queue or any pool), or of one pool."""
    if pool is not None:
        return f"TaskQueue = {quote(meta.pool_queue(base_queue, pool), '--pool')}"
    prefix = meta.pool_prefix(base_queue)
    return f"(TaskQueue = {quote(base_queue)} OR TaskQueue STARTS_WITH {quote(prefix)})"


def build_query(base_queue: str, flt: RunFilter, now: datetime | None = None) -> str:
    """The visibility list query for ``flt`` (custom attributes from :mod:`meta`)."""
    clauses = [scope_clause(base_queue, flt.pool), f"WorkflowType != '{meta.SCHEDULED_WORKFLOW}'"]
    if flt.statuses:
        clauses.append(_status_in(flt.statuses))
    if flt.failed:
        clauses.append(_status_in(FAILED_QUEUE))
    if flt.waiting:
        states = ", ".join(quote(s) for s in WAITING_STATES)
        clauses.append(f"ExecutionStatus = 'Running' AND {meta.SA_STATE} IN ({states})")
    if flt.skill is not None:
        clauses.append(f"{meta.SA_SKILL} = {quote(flt.skill, '--skill')}")
    if flt.since_seconds is not None:
        start = (now or datetime.now(UTC)) - timedelta(seconds=flt.since_seconds)
        clauses.append(f"StartTime >= '{rfc3339(start)}'")
    return " AND ".join(clauses)


def _status_in(statuses: tuple[str, ...]) -> str:
    names = [STATUSES[s] for s in statuses]
    if len(names) == 1:
        return f"ExecutionStatus = '{names[0]}'"
    return "ExecutionStatus IN (" + ", ".join(f"'{n}'" for n in names) + ")"




def _attributes(wf: WorkflowExecution) -> dict[str, Any]:
    """Sagaflow's search attributes of one listed run (local decoding, no RPC)."""
    found: dict[str, Any] = {}
    for pair in wf.typed_search_attributes:
        if pair.key.name in meta.SEARCH_ATTRIBUTES or pair.key.name == meta.SA_VERSION:
            found[pair.key.name] = pair.value
    return found


async def row_of(wf: WorkflowExecution, base_queue: str) -> RunRow:
    """One ``list`` row: run id, skill, status, state, waiting, cost, pool, times."""
    attrs = _attributes(wf)
    skill = attrs.get(meta.SA_SKILL)
    if skill is None:  # a run started before search attributes: the memo is in the page
        skill = (await wf.memo()).get(meta.MEMO_SKILL) or wf.workflow_type
    cost = attrs.get(meta.SA_COST)
    state, waiting = attrs.get(meta.SA_STATE), attrs.get(meta.SA_WAITING)
    return {
        "run_id": wf.id,
        "skill": str(skill),
        "status": wf.status.name.lower() if wf.status else "unknown",
        "state": None if state is None else str(state),
        "waiting": None if waiting is None else str(waiting),
        "cost_usd": float(cost) if cost is not None else None,
        "pool": meta.pool_of(wf.task_queue, base_queue),
        "task_queue": wf.task_queue,
        "build": meta.build_in(attrs.get(meta.SA_VERSION)),
        "started": _iso(wf.start_time),
        "closed": _iso(wf.close_time),
    }


async def executions(
    client: Client, query: str, limit: int | None
) -> AsyncIterator[WorkflowExecution]:
    """Listed runs for ``query`` in big pages, turning a rejected query into one clear error.

    Raises:
        TemporalError: When Temporal rejects the query (e.g. unregistered attributes).
    """
    from temporalio.service import RPCError, RPCStatusCode

    page = min(limit, MAX_PAGE) if limit else MAX_PAGE
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


async def list_runs(client: Client, settings: Settings, flt: RunFilter) -> list[RunRow]:
    """Rows for ``flt``: running runs first, then closed runs, most recently closed first."""
    query = build_query(settings.task_queue, flt)
    return [row async for row in _rows(client, settings.task_queue, query, flt.limit)]


async def _rows(
    client: Client, base_queue: str, query: str, limit: int | None
) -> AsyncIterator[RunRow]:
    async for wf in executions(client, query, limit):
        yield await row_of(wf, base_queue)


def state_label(row: Mapping[str, Any]) -> str | None:
    """What the table's STATE column says: ``waiting: approval:publish``, ``paused``, ..."""
    if row.get("status") != "running":
        return None
    state, waiting = row.get("state"), row.get("waiting")
    if state and waiting:
        return f"{state}: {waiting}"
    return state or waiting
