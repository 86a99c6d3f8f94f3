"""The workflow helper :func:`child`: another skill as a child run.

A child is a full sagaflow run, prepared the way the scheduled-run workflow prepares
one (:mod:`sagaflow._engine.scheduled`): a local activity on the parent's worker
validates the arguments against the skill, claims a run id and run directory, writes
``run.json`` and builds the workflow input; then the skill's workflow starts as a
Temporal child workflow with that id, sagaflow's memo and initial search attributes.
So it has its own run id, its own inbox entry (DONE / FAILED / CANCELLED, written by
its own interceptor), and ``sagaflow list/show/cancel`` see it like any run. Its memo
also names the parent run (:data:`~sagaflow._engine.meta.MEMO_PARENT`).

* **Build.** It runs on the parent's task queue, so the parent's worker (the same
  build; a pinned run's children inherit its version) serves it; the skill must be
  one that worker loaded.
* **Configuration.** The parent's transport and pool; no budget or whole-run timeout
  of its own, and its cost is not counted in the parent's budget.
* **Parent close policy.** ``wait=True``: ``REQUEST_CANCEL`` with cancellation type
  ``WAIT_CANCELLATION_COMPLETED``: cancelling the parent (``sagaflow cancel``, its
  ``--timeout``, or a ``parallel`` that fails fast) cancels the child, whose
  compensations run and which ends CANCELLED in the inbox, before the parent goes on;
  a terminated parent has the child cancelled. ``wait=False``: ``ABANDON``: the child
  outlives the parent whatever happens to it; control it by its own run id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError

from sagaflow._engine import meta, search_attributes
from sagaflow._engine.control import run_options
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.scheduled import PREPARE_ACTIVITY, PreparedRun, ScheduledRunInput


def _as_arg(name: str, value: Any) -> str:
    """An argument as ``sagaflow launch --name VALUE`` would pass it: text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value)
    except TypeError:
        raise TypeError(f"child argument {name!r} must be text, a number, a bool or "
                        f"JSON data, not {type(value).__name__}.") from None


def _check(skill: object, args: object, wait: object) -> dict[str, str]:
    if not isinstance(skill, str) or not skill.strip():
        raise ValueError(f"child needs a skill name, not {skill!r}.")
    if args is not None and not isinstance(args, Mapping):
        raise TypeError(f"child args must be a mapping of name to value, not "
                        f"{type(args).__name__}.")
    if not isinstance(wait, bool):
        raise TypeError(f"wait must be True or False, not {wait!r}.")
    odd = [k for k in (args or {}) if not isinstance(k, str)]
    if odd:
        raise TypeError(f"child argument names must be str, not {odd[0]!r}.")
    return {k: _as_arg(k, v) for k, v in (args or {}).items()}


async def child(skill: str, args: Mapping[str, Any] | None = None, *, wait: bool = True) -> Any:
    """Run ``skill`` as a child run (see the module docstring).

    Args:
        skill: The skill's name, as ``sagaflow launch`` takes it.
        args: Its arguments, as ``launch --name value`` passes them: numbers and
            booleans are passed as text, lists and dicts as JSON text.
        wait: Wait for the child's result, or return its run id once it started.

    Returns:
        The child's result (``wait=True``) or its run id (``wait=False``).

    Raises:
        TypeError, ValueError: bad arguments to this helper, at the call.
        temporalio.exceptions.ApplicationError: the child could not be prepared
            (unknown skill, arguments it does not take...; type ``ChildRunNotStarted``).
        temporalio.exceptions.ChildWorkflowError: the child run failed or was cancelled.
    """
    cli_args = _check(skill, args, wait)
    options = run_options()
    info = workflow.info()
    config = options.config
    try:
        prepared = await workflow.execute_local_activity(
            PREPARE_ACTIVITY,
            ScheduledRunInput(
                schedule="", skill=skill, base_queue=options.base_queue, args=cli_args,
                pool=options.pool if options.pool != meta.DEFAULT_POOL else None,
                transport=config.transport if config is not None else None,
            ),
            result_type=PreparedRun,
            start_to_close_timeout=timedelta(seconds=120),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
    except (ActivityError, ApplicationError) as exc:  # a local activity's failure is bare
        raise ApplicationError(
            f"child run of {skill} could not start: {failure_reason(exc)}",
            type="ChildRunNotStarted", non_retryable=True,
        ) from None
    handle = await workflow.start_child_workflow(
        prepared.workflow_type,
        prepared.workflow_input,
        id=prepared.run_id,
        task_queue=info.task_queue,
        memo={**prepared.memo, meta.MEMO_PARENT: info.workflow_id},
        search_attributes=search_attributes.initial(skill),
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        parent_close_policy=(workflow.ParentClosePolicy.REQUEST_CANCEL if wait
                             else workflow.ParentClosePolicy.ABANDON),
        cancellation_type=(workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED
                           if wait else workflow.ChildWorkflowCancellationType.ABANDON),
    )
    if not wait:
        return prepared.run_id
    return await handle
