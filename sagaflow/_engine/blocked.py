"""Runs blocked by a code change: their workflow task fails with a nondeterminism error.

sagaflow's worker does not fail a run on a nondeterminism error (see
:class:`sagaflow._engine.plugin.SkillCodeError`): Temporal keeps retrying the
run's workflow task, the run stays open, and it resumes once code that replays
its history serves it. This module reads that state from Temporal:

* ``DescribeWorkflowExecution``: a pending workflow task on attempt 2 or more
  means the last attempt failed (retries are not written to history);
* ``GetWorkflowExecutionHistoryReverse``: the newest ``WorkflowTaskFailed``
  event, whose cause ``WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR``
  and failure message say why;
* the ``TemporalReportedProblems`` search attribute, which the server sets on a
  run whose workflow task keeps failing (``cause=WorkflowTaskFailedCause...``)
  after ``system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute``
  attempts (1 on the embedded server, see :data:`DEV_SERVER_CONFIG`; Temporal's
  default is 5): ``list`` reads it from the listing it already does, and the
  worker daemon's :func:`watch` finds blocked runs with one query and writes a
  ``BLOCKED`` inbox entry for each (retired once the run moves again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client

from sagaflow import inbox
from sagaflow._engine import meta
from sagaflow.paths import Home
from sagaflow.timestamps import now_iso

log = logging.getLogger("sagaflow.worker")

NONDETERMINISTIC = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
REPORTED_PROBLEMS = meta.REPORTED_PROBLEMS
NONDETERMINISTIC_PROBLEM = meta.NONDETERMINISTIC_PROBLEM
DEV_SERVER_CONFIG = meta.DEV_SERVER_CONFIG
#: the inbox status of a blocked run's entry
BLOCKED = "BLOCKED"
#: seconds between the worker daemon's sweeps for blocked runs
WATCH_SECONDS = 5.0
#: events read backwards looking for the last workflow task failure
SCAN_LIMIT = 200


@dataclass(frozen=True)
class Blocked:
    """Why an open run cannot progress on the code that serves it.

    Attributes:
        run_id: The workflow id (sagaflow's run id).
        event_id: The ``WorkflowTaskFailed`` event.
        attempt: The workflow task's current attempt (2 = failed once).
        detail: Temporal's failure message (the divergence), one line.
    """

    run_id: str
    event_id: int
    attempt: int
    detail: str

    def reason(self, skill: str) -> str:
        """The one-line explanation ``show``, ``list``, ``doctor`` and the inbox give."""
        return (
            f"code changed incompatibly ({self.detail}); run 'sagaflow replay-check {skill}', "
            f"then revert the skill's code and run 'sagaflow upgrade {self.run_id}' (it moves "
            "the run to that compatible build, where it resumes)"
        )


def first_line(text: str, limit: int = 240) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def blocked(client: Client, run_id: str, temporal_run_id: str = "") -> Blocked | None:
    """The run's nondeterminism block, or None (open and healthy, or closed).

    Costs one describe call, plus one reverse-history page for a run whose
    workflow task is being retried.

    Raises:
        temporalio.service.RPCError: the run does not exist or the server is unreachable.
    """
    execution = WorkflowExecution(workflow_id=run_id, run_id=temporal_run_id)
    service = client.workflow_service
    desc = await service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=execution)
    )
    if not desc.HasField("pending_workflow_task") or desc.pending_workflow_task.attempt < 2:
        return None
    execution.run_id = desc.workflow_execution_info.execution.run_id
    page = await service.get_workflow_execution_history_reverse(
        GetWorkflowExecutionHistoryReverseRequest(
            namespace=client.namespace, execution=execution, maximum_page_size=SCAN_LIMIT,
        )
    )
    for event in page.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return None  # a later task succeeded; the failure is history
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            if attrs.cause != NONDETERMINISTIC:
                return None
            return Blocked(run_id, event.event_id, desc.pending_workflow_task.attempt,
                           first_line(attrs.failure.message))
    return None


def reports_nondeterminism(problems: Iterable[str] | None) -> bool:
    """Whether a ``TemporalReportedProblems`` value names a nondeterminism error."""
    return NONDETERMINISTIC_PROBLEM in (problems or ())


def blocked_query(base_queue: str) -> str:
    """Open runs of this home (base queue and pools) reported as nondeterministic."""
    prefix = meta.pool_prefix(base_queue).replace("'", "")
    queue = base_queue.replace("'", "")
    return (f"(TaskQueue = '{queue}' OR TaskQueue STARTS_WITH '{prefix}') "
            f"AND ExecutionStatus = 'Running' "
            f"AND {REPORTED_PROBLEMS} = '{NONDETERMINISTIC_PROBLEM}'")


async def sweep(client: Client, home: Home, base_queue: str) -> list[Blocked]:
    """Write a ``BLOCKED`` inbox entry per blocked run; retire those that moved again.

    One visibility query, plus describe/history calls for the runs it returns.
    An entry is written once per failed workflow task event (its key), so a
    run that is blocked, fixed and blocked again gets a second entry.

    Returns:
        The runs blocked now.
    """
    found: list[Blocked] = []
    async for wf in client.list_workflows(blocked_query(base_queue)):
        why = await blocked(client, wf.id, wf.run_id or "")
        if why is None:
            continue
        found.append(why)
        skill = next((str(p.value) for p in wf.typed_search_attributes
                      if p.key.name == meta.SA_SKILL), wf.workflow_type)
        entry = inbox.Entry(
            run_id=wf.id, status=BLOCKED, skill=skill, summary=why.reason(skill),
            timestamp=now_iso(), key=f"e{why.event_id}", note="code changed incompatibly",
        )
        if await asyncio.to_thread(inbox.append, home.inbox, entry):
            log.warning("run %s (%s) is blocked: %s", wf.id, skill, why.detail)
    entries, _ = await asyncio.to_thread(inbox.read, home.inbox)
    still = {(b.run_id, f"e{b.event_id}") for b in found}
    for e in entries:
        if e.status == BLOCKED and e.unread and (e.run_id, e.key) not in still:
            await asyncio.to_thread(inbox.retire, home.inbox, e.run_id, BLOCKED, e.key)
    return found


async def watch(client: Client, home: Home, base_queue: str,
                interval: float = WATCH_SECONDS) -> None:
    """:func:`sweep` every ``interval`` seconds until cancelled; a failed sweep is logged."""
    while True:
        try:
            await sweep(client, home, base_queue)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the server away for a moment: try again next time
            log.info("blocked-run sweep failed: %s", exc)
        await asyncio.sleep(interval)
