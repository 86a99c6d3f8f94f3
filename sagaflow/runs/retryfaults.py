"""What can go wrong with ``sagaflow retry``, each said in one sentence (never Temporal's text).

* Temporal refuses the reset: said by its status code (the run is gone, the reset
  point no longer exists, no permission, Temporal is unreachable).
* The new attempt cannot replay the steps it reuses because the skill's code
  changed (a nondeterminism error, whether it fails the run or only its
  workflow task): say so and what to do.
* The new attempt fails for another reason: the run's own failure reason.

:func:`first_task` watches the new attempt's first workflow task, so a retry
that cannot work says so at once instead of leaving a run that looks open.
"""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from sagaflow.errors import TemporalError

#: how long ``retry`` watches the new attempt's first workflow task (no worker: it stops looking)
FIRST_TASK_SECONDS = 10.0
_NONDETERMINISM = ("nondeterminism", "nondeterministic", "non-deterministic")


def _afresh(run_id: str, skill: str, again: tuple[str, ...] = ()) -> str:
    """The quoted launch that starts ``run_id`` afresh; ``again`` are the run's own launch
    words (arguments, transport, pool, budget, timeout: :func:`relaunch_words`), without
    which a skill with required arguments refuses it and others run on defaults."""
    import shlex

    return f"'{shlex.join(['sagaflow', 'launch', skill, '--id', run_id, '--if-exists', 'replace', *again])}'"


def relaunch_words(memo: dict[str, object]) -> tuple[str, ...]:
    """The launch words that repeat a run's own launch, from its memo (args and options)."""
    from sagaflow._engine import meta
    from sagaflow.durations import format_duration
    from sagaflow.runs.start import arg_words

    options = memo.get(meta.MEMO_OPTIONS)
    opts = options if isinstance(options, dict) else {}
    config = opts.get("config")
    transport = config.get("transport") if isinstance(config, dict) else None
    words: list[str] = ["--transport", transport] if isinstance(transport, str) and transport else []
    pool = opts.get("pool")
    if isinstance(pool, str) and pool and pool != meta.DEFAULT_POOL:
        words += ["--pool", pool]
    budget = opts.get("budget_usd")
    if isinstance(budget, int | float):
        words += ["--budget-usd", f"{budget:g}"]
    timeout = opts.get("timeout_seconds")
    if isinstance(timeout, int | float) and timeout > 0:
        words += ["--timeout", format_duration(timeout)]
    args = memo.get(meta.MEMO_ARGS)
    return tuple(words + arg_words({str(k): str(v) for k, v in args.items()}
                                   if isinstance(args, dict) else {}))


def code_changed(run_id: str, skill: str, again: tuple[str, ...] = ()) -> TemporalError:
    """The retried attempt cannot replay its reused steps on the current skill code."""
    return TemporalError(
        f"Run {run_id} could not be retried: skill {skill}'s code changed since the run "
        "started, so Temporal cannot replay the steps it reuses; restore the previous code "
        f"and retry, or start afresh with {_afresh(run_id, skill, again)}.",
        retryable=False,
    )


def is_nondeterminism(text: str) -> bool:
    """Whether a failure message is Temporal's nondeterminism error."""
    lowered = text.lower()
    return any(word in lowered for word in _NONDETERMINISM)


def reset_refused(
    run_id: str, skill: str, exc: RPCError, again: tuple[str, ...] = ()
) -> TemporalError:
    """Temporal refused ``ResetWorkflowExecution``: one sentence per status code."""
    status = exc.status
    if status == RPCStatusCode.NOT_FOUND:
        text = (f"Run {run_id} is no longer in Temporal (purged or expired); start it afresh "
                f"with {_afresh(run_id, skill, again)}.")
    elif status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION):
        text = (f"Temporal cannot reset run {run_id} to its last unfinished step (the run "
                f"changed meanwhile, or its history has no such point); see it with "
                f"'sagaflow show {run_id}' or start afresh with {_afresh(run_id, skill, again)}.")
    elif status == RPCStatusCode.PERMISSION_DENIED:
        text = (f"Temporal does not let this client reset run {run_id}; ask the namespace's "
                "admin for the permission to reset workflows.")
    elif status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return TemporalError(
            f"Temporal did not answer the reset of run {run_id}; check it with "
            f"'sagaflow doctor' and retry again.", retryable=True,
        )
    else:
        code = status.name.lower() if status else "unknown status"
        text = f"Temporal refused to reset run {run_id} ({code}); see it with 'sagaflow show {run_id}'."
    return TemporalError(text, retryable=False)


async def first_task(
    client: Client, run_id: str, temporal_run: str, after_event: int, skill: str,
    timeout: float = FIRST_TASK_SECONDS, again: tuple[str, ...] = (),
) -> None:
    """Wait for the new attempt's first workflow task after the reset point.

    Returns when it completed, when the run closed any other way, or after
    ``timeout`` seconds (no worker took it: ``show``/``list`` say so).

    Raises:
        TemporalError: The attempt cannot replay on the current code (see :func:`code_changed`).
    """
    handle = client.get_workflow_handle(run_id, run_id=temporal_run)

    async def after_completed(completed: int) -> None:
        # A nondeterminism error that fails the run completes the task with a
        # FailWorkflowExecution command: the failure is the very next event.
        async for event in handle.fetch_history_events():
            if event.event_id > completed:
                failed = event.workflow_execution_failed_event_attributes
                if event.HasField("workflow_execution_failed_event_attributes") and (
                        is_nondeterminism(failed.failure.message)):
                    raise code_changed(run_id, skill, again)
                return

    async def watch() -> None:
        async for event in handle.fetch_history_events(wait_new_event=True):
            if event.event_id <= after_event:
                continue
            kind = event.WhichOneof("attributes")
            if kind == "workflow_task_completed_event_attributes":
                await after_completed(event.event_id)
                return
            if kind == "workflow_task_failed_event_attributes":
                attrs = event.workflow_task_failed_event_attributes
                if attrs.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW:
                    continue
                if (attrs.cause == WorkflowTaskFailedCause.
                        WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
                        or is_nondeterminism(attrs.failure.message)):
                    raise code_changed(run_id, skill, again)
            if kind == "workflow_execution_failed_event_attributes":
                if is_nondeterminism(event.workflow_execution_failed_event_attributes.failure.message):
                    raise code_changed(run_id, skill, again)
                return
            if kind and kind.startswith("workflow_execution_") and kind.endswith(
                    ("completed_event_attributes", "timed_out_event_attributes",
                     "canceled_event_attributes", "terminated_event_attributes")):
                return

    try:
        await asyncio.wait_for(watch(), timeout)
    except TimeoutError:
        return
