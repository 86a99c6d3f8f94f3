"""Runs blocked by a code change: their workflow task fails with a nondeterminism error.

sagaflow's worker does not fail a run on a nondeterminism error (see
:class:`sagaflow._engine.plugin.SkillCodeError`): Temporal keeps retrying the
run's workflow task, the run stays open, and it resumes once code that replays
its history serves it. This module reads that state from Temporal:

* ``DescribeWorkflowExecution``: a pending workflow task on attempt 2 or more
  means the last attempt failed (retries are not written to history);
* ``GetWorkflowExecutionHistoryReverse``: the newest ``WorkflowTaskFailed``
  event, whose cause ``WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR``
  and failure message say why.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client

NONDETERMINISTIC = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
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
            f"revert the skill's code, or 'sagaflow upgrade' the run to a compatible build"
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
