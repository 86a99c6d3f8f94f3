"""``sagaflow purge``: delete old closed runs from Temporal and their run dirs.

The scope is this home's runs (its base task queue and its pools, as ``list``).
A run (a workflow id) is purged only when every Temporal run it has is closed,
closed before the cut-off, and, with ``failed_only``, it is in the failed-run
queue (:mod:`sagaflow.runs.failedqueue`, as ``list --failed``); so a retried run
whose new attempt is open or recent is kept whole.
Each run is checked again right before deletion (Temporal would terminate an
open execution it is asked to delete). Inbox entries are left alone.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from sagaflow._engine.payload_store import forget_run
from sagaflow.config import Settings
from sagaflow.errors import UsageError
from sagaflow.paths import Home
from sagaflow.runs import failedqueue, listing, missing


@dataclass
class PurgeItem:
    """One run to delete: its id, skill, last status and close time, and Temporal runs."""

    run_id: str
    skill: str
    status: str
    closed: str
    temporal_runs: list[str] = field(default_factory=list)


@dataclass
class PurgePlan:
    """What ``purge`` will delete."""

    older_than_seconds: float
    failed_only: bool
    cutoff: str
    items: list[PurgeItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def plan_purge(
    client: Client,
    settings: Settings,
    older_than_seconds: float,
    failed_only: bool,
    now: datetime | None = None,
    inbox_path: Path | None = None,
) -> PurgePlan:
    """The runs of this home that closed more than ``older_than_seconds`` ago.

    With ``failed_only``, the runs of the failed-run queue
    (:func:`sagaflow.runs.failedqueue.failed_queue`, the list ``list --failed``
    shows; dismissals read from ``inbox_path``) that closed before the cut-off.

    Raises:
        TemporalError: Temporal rejected the list query.
        InboxError: INBOX.md exists but cannot be read (``failed_only``).
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=older_than_seconds)
    plan = PurgePlan(older_than_seconds, failed_only, listing.rfc3339(cutoff))
    if failed_only:
        queued = await failedqueue.failed_queue(
            client, settings, inbox_path or Path(os.devnull)
        )
        for q in queued:
            if all(closed < cutoff for closed in q.closed_at) and len(q.closed_at) == len(
                q.temporal_runs
            ):
                plan.items.append(_item(q.row, q.temporal_runs))
    else:
        groups: dict[str, list[Any]] = {}
        query = listing.scope_clause(settings.task_queue)
        async for wf in listing.executions(client, query, None):
            groups.setdefault(wf.id, []).append(wf)
        for wfs in groups.values():
            if any(w.close_time is None or w.close_time >= cutoff for w in wfs):
                continue
            ordered = sorted(wfs, key=lambda w: w.close_time)
            row = await listing.row_of(ordered[-1], settings.task_queue)
            plan.items.append(_item(row, [w.run_id for w in ordered]))
    plan.items.sort(key=lambda item: item.closed)
    return plan


def _item(row: listing.RunRow, temporal_runs: list[str]) -> PurgeItem:
    return PurgeItem(
        run_id=row["run_id"], skill=row["skill"], status=row["status"],
        closed=row["closed"] or "", temporal_runs=temporal_runs,
    )


def _remove_run_dir(home: Home, run_id: str) -> bool:
    """Delete the run's directory, only if it really is inside the home's runs dir."""
    try:
        path = home.run_dir(run_id)
    except UsageError:  # a workflow id no sagaflow launch would give: never a run dir
        return False
    runs_root = home.runs.resolve()
    try:
        resolved = path.resolve()
    except OSError:
        return False
    if resolved.parent != runs_root or not resolved.is_dir() or path.is_symlink():
        return False
    shutil.rmtree(resolved)
    return True


async def _still_purgeable(client: Client, item: PurgeItem) -> bool:
    """The run's latest Temporal run is still the planned one, and closed."""
    try:
        desc = await client.get_workflow_handle(item.run_id).describe()
    except RPCError as exc:
        return missing.is_not_found(exc)
    return desc.status != WorkflowExecutionStatus.RUNNING and desc.run_id in item.temporal_runs


async def purge(client: Client, home: Home, plan: PurgePlan) -> dict[str, Any]:
    """Delete each planned run from Temporal and remove its run dir and the payloads it
    stored outside history (``<home>/payloads/<namespace>/<run>``).

    Returns:
        Counts (``runs``, ``temporal_runs``, ``run_dirs``), ``skipped`` run ids (they
        changed since the plan) and ``errors`` (one line each).
    """
    counts: dict[str, Any] = {"runs": 0, "temporal_runs": 0, "run_dirs": 0,
                              "skipped": [], "errors": []}
    for item in plan.items:
        if not await _still_purgeable(client, item):
            counts["skipped"].append(item.run_id)
            continue
        failed = False
        for temporal_run in item.temporal_runs:
            try:
                await client.workflow_service.delete_workflow_execution(
                    DeleteWorkflowExecutionRequest(
                        namespace=client.namespace,
                        workflow_execution=WorkflowExecution(
                            workflow_id=item.run_id, run_id=temporal_run
                        ),
                    )
                )
            except RPCError as exc:
                if not missing.is_not_found(exc):
                    failed = True
                    first = (str(exc).splitlines() or [""])[0][:160]
                    counts["errors"].append(f"{item.run_id}: {first}")
                    break
            counts["temporal_runs"] += 1
        if failed:
            continue
        counts["runs"] += 1
        try:
            counts["run_dirs"] += int(_remove_run_dir(home, item.run_id))
            forget_run(home.payloads, client.namespace, item.run_id)  # stored outside history
        except OSError as exc:
            counts["errors"].append(f"{item.run_id}: cannot remove its run dir: {exc.strerror}")
    return counts
