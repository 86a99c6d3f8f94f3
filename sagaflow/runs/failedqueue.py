"""The failed-run queue: the one definition ``list --failed`` and ``purge --failed`` share.

A run (a workflow id) is in the queue when its **latest** Temporal execution
failed or timed out, and nobody has retried it (a retry starts a newer
execution, which is then the latest) or dismissed it (``sagaflow dismiss
RUN_ID`` marked read the FAILED inbox entry of that very execution). Each run
appears once, however many executions it has; cancelled and terminated runs
were stopped on purpose and are not in it.

Temporal is the source of every status: the inbox only answers "dismissed",
per execution (an entry's ``key`` is the tail of the execution's Temporal run
id), so dismissing an earlier failure never hides a later one.

Cost: one visibility query for the failed executions, then one for every
execution of those ids (batches of :data:`BATCH`); no RPC per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sagaflow import inbox
from sagaflow.runs import listing

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecution

    from sagaflow.config import Settings

#: Temporal statuses (``list --status`` spelling) that put a latest execution in the queue
QUEUE_STATUSES = listing.FAILED_QUEUE
#: inbox status of the framework's failure entry (see ``_engine.interceptors``)
FAILED_ENTRY = "FAILED"
BATCH = 100


@dataclass
class QueuedRun:
    """One run in the failed-run queue.

    Attributes:
        row: The ``list`` row of its latest execution.
        temporal_runs: Every Temporal run id of this workflow id, oldest first.
        closed_at: Close times (aware UTC datetimes) of those executions, same order.
    """

    row: listing.RunRow
    temporal_runs: list[str] = field(default_factory=list)
    closed_at: list[datetime] = field(default_factory=list)


def dismissed_keys(inbox_path: Path) -> set[tuple[str, str]]:
    """``(run id, entry key)`` of every FAILED inbox entry marked read.

    A missing inbox dismisses nothing; an unreadable one raises ``InboxError``.
    """
    entries, _ = inbox.read(inbox_path)
    return {(e.run_id, e.key) for e in entries if e.status == FAILED_ENTRY and not e.unread}


def is_dismissed(run_id: str, temporal_run: str, dismissed: set[tuple[str, str]]) -> bool:
    """Whether the FAILED entry of this execution (key = a tail of its run id) was read."""
    return any(
        rid == run_id and len(key) >= 8 and temporal_run.endswith(key) for rid, key in dismissed
    )


def _latest(wfs: list[WorkflowExecution]) -> WorkflowExecution:
    """The execution Temporal describes for the id: an open one, else the last closed."""
    open_ = [w for w in wfs if w.close_time is None]
    if open_:
        return open_[0]
    return max(wfs, key=lambda w: w.close_time or w.start_time)


async def failed_queue(
    client: Client,
    settings: Settings,
    inbox_path: Path,
    *,
    skill: str | None = None,
    pool: str | None = None,
    since_seconds: float | None = None,
) -> list[QueuedRun]:
    """The failed-run queue of this home, most recently closed first.

    Args:
        client: A connected Temporal client.
        settings: This home's settings (its base task queue sets the scope).
        inbox_path: The home's INBOX.md (dismissals).
        skill, pool, since_seconds: Narrow as ``list`` does (since: started that recently).

    Raises:
        TemporalError: Temporal rejected the list query.
        InboxError: INBOX.md exists but cannot be read.
    """
    base = settings.task_queue
    flt = listing.RunFilter(
        statuses=QUEUE_STATUSES, skill=skill, pool=pool, since_seconds=since_seconds, limit=None
    )
    candidates = list(dict.fromkeys(
        [wf.id async for wf in listing.executions(client, listing.build_query(base, flt), None)]
    ))
    dismissed = dismissed_keys(inbox_path)
    queued: list[QueuedRun] = []
    for start in range(0, len(candidates), BATCH):
        ids = ", ".join(listing.quote(i) for i in candidates[start:start + BATCH])
        query = f"{listing.scope_clause(base)} AND WorkflowId IN ({ids})"
        groups: dict[str, list[WorkflowExecution]] = {}
        async for wf in listing.executions(client, query, None):
            groups.setdefault(wf.id, []).append(wf)
        for run_id, wfs in groups.items():
            latest = _latest(wfs)
            status = latest.status.name.lower() if latest.status else ""
            if status not in QUEUE_STATUSES or is_dismissed(run_id, latest.run_id, dismissed):
                continue
            ordered = sorted(wfs, key=lambda w: w.close_time or w.start_time)
            queued.append(QueuedRun(
                row=await listing.row_of(latest, base),
                temporal_runs=[w.run_id for w in ordered],
                closed_at=[w.close_time for w in ordered if w.close_time is not None],
            ))
    queued.sort(key=lambda q: q.row["closed"] or "", reverse=True)
    return queued
