"""Keeping the inbox true to Temporal where no workflow code runs.

Inside a run, the worker's interceptor writes each execution's ending and retires
the entries that asked for an action (see
:mod:`sagaflow._engine.framework_activities`). Two ways of ending an execution run
no workflow code at all, and are handled here:

* a termination (``sagaflow terminate``, the terminate that ``--if-exists replace``
  does): :func:`record_stopped` retires the run's NEEDS APPROVAL entries and
  records the ending as a TERMINATED entry, already read (whoever terminated it
  knows; ``inbox --all`` shows it);
* anything that ended an execution behind sagaflow's back (``temporal workflow
  terminate``, the web UI, Temporal's own execution timeout): :func:`reconcile`
  checks each run whose entry still asks for an action against Temporal and does
  the same for those whose waiting execution is closed. Commands that talk to
  Temporal anyway (``list``, ``show``) call it; it costs nothing when no entry waits.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from sagaflow import inbox
from sagaflow.inbox_format import WAITING_STATUSES, execution_of, execution_tail
from sagaflow.paths import Home
from sagaflow.timestamps import now_iso

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecutionDescription

#: Temporal's closed statuses as the entry recorded for them (status, summary)
_ENDED = {
    "TERMINATED": ("TERMINATED", "terminated outside sagaflow"),
    "TIMED_OUT": ("TIMED_OUT", "timed out (Temporal's execution timeout)"),
    "CANCELED": ("CANCELLED", "cancelled"),
    "FAILED": ("FAILED", "failed"),
    "COMPLETED": ("DONE", "completed"),
    "CONTINUED_AS_NEW": ("CONTINUED", "continued as a new execution"),
}


def record_stopped(
    home: Home, run_id: str, skill: str, execution: str, status: str, summary: str,
    *, keep_execution: str = "",
) -> None:
    """Retire ``run_id``'s waiting entries and record how ``execution`` ended (read).

    Args:
        execution: The Temporal run id that was stopped.
        keep_execution: The run's new open execution, whose own entries stay.

    Raises:
        InboxError: the inbox cannot be read or written (retryable).
    """
    inbox.retire_waiting(home.inbox, run_id, keep_execution=keep_execution)
    entry = inbox.Entry(
        run_id=run_id, status=status, skill=skill, summary=summary, timestamp=now_iso(),
        unread=False,
    )
    inbox.append(home.inbox, entry, execution=execution)


def skill_of(desc: WorkflowExecutionDescription) -> str:
    """The run's skill (its ``SagaflowSkill`` search attribute), else its workflow type."""
    from sagaflow._engine import meta

    for pair in desc.typed_search_attributes:
        if pair.key.name == meta.SA_SKILL and isinstance(pair.value, str):
            return pair.value
    return desc.workflow_type


#: an unread marker of a waiting status: only when one occurs is the inbox parsed
_UNREAD_WAITING = re.compile(
    rb"status=(?:" + b"|".join(s.encode() for s in sorted(WAITING_STATUSES))
    + rb")(?: key=\S+)? state=unread -->"
)


def waiting_runs(home: Home) -> dict[str, set[str]]:
    """Run id -> execution tails (``""``: unnamed) of the unread entries asking for an action."""
    try:
        data = home.inbox.read_bytes()
    except OSError:
        return {}
    if not _UNREAD_WAITING.search(data):
        return {}
    entries, _ = inbox.parse(inbox.decode(data))
    found: dict[str, set[str]] = {}
    for entry in entries:
        if entry.unread and entry.status in WAITING_STATUSES:
            found.setdefault(entry.run_id, set()).add(execution_of(entry.key))
    return found


async def reconcile(
    client: Client, home: Home, run_ids: Collection[str] | None = None
) -> list[str]:
    """Retire entries that ask for an action of runs no longer waiting in Temporal.

    An entry is stale when its run's latest execution is closed, or is another
    execution than the one that wrote it. Runs Temporal does not know (deleted,
    another cluster) and unreachable servers are left alone.

    Args:
        run_ids: Only these runs (default: every run with such an entry).

    Returns:
        The run ids whose entries were retired.
    """
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError

    waiting = await asyncio.to_thread(waiting_runs, home)
    retired: list[str] = []
    for run_id, tails in waiting.items():
        if run_ids is not None and run_id not in run_ids:
            continue
        try:
            desc = await client.get_workflow_handle(run_id).describe()
        except RPCError:
            continue
        status = desc.status or WorkflowExecutionStatus.RUNNING
        current = execution_tail(desc.run_id)
        if status == WorkflowExecutionStatus.RUNNING and tails <= {current, ""}:
            continue
        if status == WorkflowExecutionStatus.RUNNING:  # an older execution's entry
            await asyncio.to_thread(
                inbox.retire_waiting, home.inbox, run_id, keep_execution=desc.run_id
            )
        else:
            ended, how = _ENDED.get(status.name, (status.name, status.name.lower()))
            await asyncio.to_thread(
                record_stopped, home, run_id, skill_of(desc), desc.run_id, ended,
                f"{how}; it no longer waits",
            )
        retired.append(run_id)
    return retired
