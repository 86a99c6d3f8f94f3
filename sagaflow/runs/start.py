"""Runs in Temporal: start or attach, await with progress (list: listing.py; show: timeline.py).

An id names one run; ``--if-exists`` says what launching an id that exists means.
Attaching is for open runs only: a closed run (completed, failed, cancelled,
terminated, timed out) is never attached to, whatever ``--if-exists`` says short
of ``replace``; the launch fails with one line naming the commands that show the
old result and that start the id afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from sagaflow._engine.failures import failure_reason
from sagaflow._engine.meta import RunOptions
from sagaflow.config import Settings
from sagaflow.errors import SagaflowError, UsageError
from sagaflow.paths import Home
from sagaflow.runs import missing
from sagaflow.skills.prepare import Prepared


class RunFailedError(SagaflowError):
    """The awaited run ended without a result."""


IF_EXISTS = ("attach", "fail", "replace")
#: grace on top of --timeout before Temporal's own execution timeout fires (the
#: interceptor's timeout fails the run cleanly first; this is the backstop)
TIMEOUT_GRACE_SECONDS = 300


def exists_error(run_id: str) -> UsageError:
    """What ``--if-exists fail`` says when the id is taken by an open run."""
    return UsageError(
        f"A run with id {run_id} already exists and is still running; use --if-exists attach "
        "or --if-exists replace, or pick another --id."
    )


def replace_command(
    skill: str, run_id: str, args: dict[str, str], options: list[str] | None = None
) -> str:
    """The exact ``sagaflow launch`` that starts ``run_id`` afresh with ``args``.

    ``options`` are the launch's own options to repeat (``--transport``, ``--pool``...,
    see :func:`launch_options`): without them the suggestion would not run as typed
    (no model key without ``--transport scripted``) or would run differently.
    """
    import shlex

    words = ["sagaflow", "launch", skill, "--id", run_id, "--if-exists", "replace",
             *(options or []), *arg_words(args)]
    return shlex.join(words)


def arg_words(args: dict[str, str]) -> list[str]:
    """A run's arguments as launch words: ``--arg KEY=VALUE`` each, then its free text
    (:data:`~sagaflow.skills.args.EXTRA`, a JSON list) as the words it was."""
    from sagaflow.skills.args import EXTRA, skill_view

    words: list[str] = []
    for key, value in args.items():
        if key != EXTRA:
            words += ["--arg", f"{key}={value}"]
    return words + [str(w) for w in skill_view(args).get(EXTRA, [])]


def launch_options(transport: str | None, options: RunOptions | None) -> list[str]:
    """The launch options (transport, pool, budget, timeout) a suggested relaunch repeats."""
    from sagaflow._engine.meta import DEFAULT_POOL
    from sagaflow.durations import format_duration

    words = ["--transport", transport] if transport else []
    if options is not None:
        if options.pool != DEFAULT_POOL:
            words += ["--pool", options.pool]
        if options.budget_usd is not None:
            words += ["--budget-usd", f"{options.budget_usd:g}"]
        if options.timeout_seconds:
            words += ["--timeout", format_duration(options.timeout_seconds)]
    return words


def closed_error(
    run_id: str, status: str, skill: str, args: dict[str, str], options: list[str] | None = None
) -> UsageError:
    """What launching the id of a closed run says (attaching is for open runs only)."""
    return UsageError(
        f"Run {run_id} is closed ({status}), so this launch does not attach to it; see its "
        f"result with 'sagaflow show {run_id}', or start it afresh with "
        f"'{replace_command(skill, run_id, args, options)}'."
    )


def _closed(desc: WorkflowExecutionDescription) -> str | None:
    """The closed status's name (``completed``...), or None while the run is open."""
    if desc.status in (None, WorkflowExecutionStatus.RUNNING):
        return None
    return desc.status.name.lower()


async def start(
    client: Client, settings: Settings, prepared: Prepared, *,
    options: RunOptions | None = None, if_exists: str | None = None, home: Home | None = None,
    versioning_override: Any = None,
) -> tuple[WorkflowHandle[Any, Any], bool]:
    """Start the run, or attach to the open run with the same id.

    Args:
        options: the run's ``sagaflow`` memo entry: pool, budget, timeouts and the
            configuration its activities use (default: the base queue, no config).
        if_exists: what an existing run with this id means — ``attach`` (the default;
            open runs only), ``fail``, or ``replace`` (terminate it and start afresh;
            its NEEDS APPROVAL entries are retired and a TERMINATED entry, already
            read, records the execution it ended).
        home: whose inbox records a replaced execution (default: the current home).
        versioning_override: pins the run to its build (``versioning.pinned``), or None.

    Returns:
        The handle and whether a new run was started.

    Raises:
        UsageError: the id names a closed run (unless ``replace``), or an open one
            under ``fail``; the message names the commands to go on with.
    """
    from sagaflow._engine import meta
    from sagaflow._engine.search_attributes import initial

    options = options or RunOptions(base_queue=settings.task_queue)
    skill, args = prepared.record.skill, prepared.requested_args
    again = launch_options(prepared.requested_transport, options)
    if prepared.attach:
        handle = client.get_workflow_handle(prepared.run_id)
        status = _closed(await describe(handle))
        if status is not None:
            raise closed_error(prepared.run_id, status, skill, args, again)
        if if_exists == "fail":
            raise exists_error(prepared.run_id)
        return handle, False
    replaced = await _open_execution(client, prepared.run_id) if if_exists == "replace" else None
    conflict, reuse = {
        None: (WorkflowIDConflictPolicy.USE_EXISTING, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "attach": (WorkflowIDConflictPolicy.USE_EXISTING, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "fail": (WorkflowIDConflictPolicy.FAIL, WorkflowIDReusePolicy.REJECT_DUPLICATE),
        "replace": (
            WorkflowIDConflictPolicy.TERMINATE_EXISTING, WorkflowIDReusePolicy.ALLOW_DUPLICATE
        ),
    }[if_exists]
    timeout = options.timeout_seconds
    try:
        handle = await client.start_workflow(
            prepared.spec.workflow_name,
            prepared.workflow_input,
            id=prepared.run_id,
            task_queue=meta.pool_queue(settings.task_queue, options.pool),
            id_conflict_policy=conflict,
            id_reuse_policy=reuse,
            memo=meta.memo_for(prepared.record.skill, prepared.record.args, options),
            search_attributes=initial(prepared.record.skill),
            execution_timeout=timedelta(seconds=timeout + TIMEOUT_GRACE_SECONDS)
            if timeout else None,
            versioning_override=versioning_override,
        )
    except WorkflowAlreadyStartedError:
        # USE_EXISTING attaches to an open run without an error: this one is closed,
        # or open under --if-exists fail
        existing = client.get_workflow_handle(prepared.run_id)
        status = _closed(await describe(existing))
        if status is None and if_exists == "fail":
            raise exists_error(prepared.run_id) from None
        if status is None:  # it started between our start and describe: attach
            return existing, False
        raise closed_error(prepared.run_id, status, skill, args, again) from None
    # temporalio 1.35 exposes no public "started" flag for a start that may attach
    # (USE_EXISTING); the start response kept on the handle is the only source.
    started = getattr(handle, "_start_workflow_response", None)
    fresh = bool(getattr(started, "started", True))
    if replaced is not None and replaced != handle.result_run_id:
        # imported here: the inbox modules cost about 3 ms, and only a replace needs them
        from sagaflow.runs import inboxsync

        await asyncio.to_thread(
            inboxsync.record_stopped, home or Home.current(), prepared.run_id, skill, replaced,
            "TERMINATED", "replaced by a new launch (--if-exists replace)",
            keep_execution=handle.result_run_id or "",
        )
    return handle, fresh


async def _open_execution(client: Client, run_id: str) -> str | None:
    """The Temporal run id of ``run_id``'s open execution, or None (closed or unknown)."""
    from temporalio.service import RPCError

    try:
        desc = await client.get_workflow_handle(run_id).describe()
    except RPCError:
        return None
    return desc.run_id if _closed(desc) is None else None


async def describe(handle: WorkflowHandle[Any, Any]) -> Any:
    with missing.run(handle.id):
        return await handle.describe()


async def await_result(
    handle: WorkflowHandle[Any, Any],
    on_progress: Callable[[str], None] | None = None,
    *,
    follow_after: float = 1.0,
    on_gate: Callable[[str], None] | None = None,
) -> Any:
    """Wait for the run's result (Temporal's long poll on the close event).

    When the result is not there after ``follow_after`` seconds and
    ``on_progress`` is given, the run's history is followed too (see
    :mod:`sagaflow.runs.follow`) and each step, retry or wait becomes a
    progress line. Quick runs therefore cost nothing extra. ``on_gate`` gets the
    exact approve/reject commands once per gate the run opens (see
    :class:`sagaflow.runs.gates.GateNotices`).
    """
    result_task = asyncio.ensure_future(handle.result())
    follower: asyncio.Future[Any] | None = None
    try:
        done, _ = await asyncio.wait({result_task}, timeout=follow_after)
        client = getattr(handle, "_client", None)
        if not done and on_progress is not None and client is not None:
            from sagaflow.runs.follow import Event, follow, format_event
            from sagaflow.runs.gates import GateNotices

            gates = GateNotices(on_gate) if on_gate is not None else None

            def on_event(event: Event) -> None:
                if gates is not None:
                    gates(event)
                line = format_event(event)
                if line and event["event"] != "run_finished":
                    on_progress(line)

            follower = asyncio.ensure_future(follow(client, handle.id, on_event))
        return await result_task
    except WorkflowFailureError as exc:
        raise RunFailedError(f"Run {handle.id} failed: {failure_reason(exc.cause)}") from None
    finally:
        for task in (follower, result_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
