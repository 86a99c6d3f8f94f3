"""``list`` query building, pure (no temporalio import): validated before connecting.

The scope is every run of this home: its base task queue and its pools' queues
(``<base>-pool-<name>``, see :func:`sagaflow._engine.meta.pool_queue`), which the
SQLite visibility store of the dev server answers with ``STARTS_WITH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sagaflow._engine import meta
from sagaflow.durations import parse_duration
from sagaflow.errors import UsageError

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
#: statuses of the failed-run queue (see :mod:`sagaflow.runs.failedqueue`): runs that ended
#: without a result on their own. Canceled and terminated runs were stopped on purpose.
FAILED_QUEUE = ("failed", "timed_out")
#: SagaflowState values of a run parked on a person (an approval, a signal, a pause)
WAITING_STATES = ("waiting", "paused")


@dataclass(frozen=True)
class RunFilter:
    """What ``list`` (and ``cost``) select; every filter narrows (AND).

    Attributes:
        statuses: Temporal statuses (keys of :data:`STATUSES`); empty means any.
        skill: Only runs of this skill (``SagaflowSkill``).
        since_seconds: Only runs started this many seconds ago or later.
        failed: Only the failed-run queue (:mod:`sagaflow.runs.failedqueue`): runs whose
            latest execution failed or timed out, not retried or dismissed, once each.
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
