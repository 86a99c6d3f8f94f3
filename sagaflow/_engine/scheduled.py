"""The workflow a Temporal Schedule starts: one normal sagaflow run per firing.

A Schedule starts the same workflow with the same argument every time, but a
sagaflow run needs a fresh run id, run dir, ``run.json`` and workflow input
built by the skill. So the schedule's action starts ``sagaflow_scheduled_run``
(a thin parent), which:

1. runs a local activity on its own worker that does what ``sagaflow launch``
   does before starting (``launcher.prepare`` against the worker's loaded
   skills: validate the arguments, claim a run id and dir, write ``run.json``,
   build the input) and returns the workflow type, run id, input (as JSON
   data), memo and task queue;
2. starts the skill's workflow as a child with that id, memo and sagaflow's
   initial search attributes, and waits for it, so the schedule's overlap
   policy applies to whole runs. Its result (or failure) is the child's.

The child is an ordinary sagaflow run: ``sagaflow list/show/cancel`` see it,
its result lands in the inbox through the worker's interceptor. Both the parent
close policy and the cancellation type are ABANDON: the parent is plumbing, so
terminating or cancelling it (or deleting the schedule) never touches the run,
which users control by its own id. When the run cannot even be prepared (the
skill was removed, its arguments no longer fit), the parent writes a FAILED
inbox entry under its own workflow id and fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.converter import BinaryNullPayloadConverter, JSONPlainPayloadConverter
from temporalio.exceptions import ActivityError, ApplicationError

from sagaflow._engine import meta, search_attributes
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.framework_activities import FINALIZE_ACTIVITY, FinalizeInput
from sagaflow.wiretypes import wire

if TYPE_CHECKING:
    from temporalio.client import Client

    from sagaflow._engine.meta import RunConfig
    from sagaflow.config import Settings
    from sagaflow.paths import Home
    from sagaflow.skills.discovery import LoadedSkills

WORKFLOW_NAME = meta.SCHEDULED_WORKFLOW
PREPARE_ACTIVITY = "sagaflow_prepare_scheduled_run"
#: memo key on the schedule and on each parent run (``run_id`` is added once known)
MEMO_KEY = "sagaflow_schedule"


@wire
@dataclass
class ScheduledRunInput:
    """The fixed argument a schedule starts :data:`WORKFLOW_NAME` with."""

    schedule: str
    skill: str
    base_queue: str
    args: dict[str, str] = field(default_factory=dict)
    pool: str | None = None
    budget_usd: float | None = None
    timeout_seconds: float | None = None
    #: ``schedule add --transport`` (None: the worker's configured transport)
    transport: str | None = None


@wire
@dataclass
class PreparedRun:
    """What the parent needs to start the skill's workflow as a child."""

    workflow_type: str
    run_id: str
    workflow_input: Any
    memo: dict[str, Any]
    task_queue: str


#: payload encodings whose data is JSON (``null`` included)
_JSON_ENCODINGS = frozenset({JSONPlainPayloadConverter().encoding, BinaryNullPayloadConverter().encoding})


def _as_json_data(value: Any) -> Any:
    """``value`` as the JSON data the worker's payload converter would send."""
    from sagaflow.errors import SkillLoadError

    converter = activity.payload_converter()
    payload = converter.to_payload(value)
    encoding = payload.metadata.get("encoding", b"").decode()
    if encoding in _JSON_ENCODINGS:
        return converter.from_payload(payload)  # no type hint: plain JSON data (or None)
    raise SkillLoadError(
        f"The skill's build_input returned {type(value).__name__}, which is not JSON "
        "serializable; return a dataclass, dict or other JSON-friendly value."
    )


class Preparer:
    """The prepare activity, bound to the skills this worker loaded and runs.

    Using the worker's own registry (rather than loading skills again) keeps
    the input in step with the workflow code the worker registered and avoids
    re-importing skill modules under running workflows. ``settings`` and
    ``defaults`` (the worker's run configuration: transport, models, prices)
    are the worker's, fixed when it was built; the firing's base queue wins.
    """

    def __init__(
        self, home: Home, settings: Settings, loaded: LoadedSkills, defaults: RunConfig | None
    ) -> None:
        self.home = home
        self.settings = settings
        self.loaded = loaded
        self.defaults = defaults

    @activity.defn(name=PREPARE_ACTIVITY)
    async def prepare_scheduled_run(self, inp: ScheduledRunInput) -> PreparedRun:
        """Do what ``sagaflow launch`` does before starting: see the module docstring."""
        import asyncio

        from sagaflow._engine.activities import to_application_error
        from sagaflow.errors import SagaflowError
        from sagaflow.skills.prepare import prepare

        home = self.home
        transport = inp.transport or (self.defaults.transport if self.defaults else None)
        try:
            settings = self.settings.with_overrides(task_queue=inp.base_queue)
            home.ensure(home.runs)
            prepared = await asyncio.to_thread(
                prepare, home, settings, self.loaded, inp.skill, dict(inp.args),
                transport=transport if transport != "auto" else None,
            )
            data = _as_json_data(prepared.workflow_input)
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        options = meta.RunOptions(
            base_queue=inp.base_queue, pool=inp.pool or meta.DEFAULT_POOL,
            budget_usd=inp.budget_usd, timeout_seconds=inp.timeout_seconds,
            step_timeouts=settings.step_timeouts_for(inp.skill),
            config=meta.RunConfig.from_settings(
                settings, prepared.record.transport, prepared.record.skill_dir
            ),
        )
        return PreparedRun(
            workflow_type=prepared.spec.workflow_name,
            run_id=prepared.run_id,
            workflow_input=data,
            memo=meta.memo_for(inp.skill, prepared.record.args, options),
            task_queue=meta.pool_queue(inp.base_queue, inp.pool),
        )


@workflow.defn(name=WORKFLOW_NAME)
class ScheduledRunWorkflow:
    """Prepare one sagaflow run, start it as a child, return its result."""

    @workflow.run
    async def run(self, inp: ScheduledRunInput) -> Any:
        try:
            prepared = await workflow.execute_local_activity(
                PREPARE_ACTIVITY, inp, result_type=PreparedRun,
                start_to_close_timeout=timedelta(seconds=120),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        except (ActivityError, ApplicationError) as exc:  # a local activity's failure is bare
            reason = failure_reason(exc)
            await self._record_failure(inp, f"Scheduled run of {inp.skill} could not start: {reason}")
            raise ApplicationError(reason, type="ScheduledRunNotStarted", non_retryable=True) from None
        child = await workflow.start_child_workflow(
            prepared.workflow_type,
            prepared.workflow_input,
            id=prepared.run_id,
            task_queue=prepared.task_queue,
            memo=prepared.memo,
            search_attributes=search_attributes.initial(inp.skill),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            cancellation_type=workflow.ChildWorkflowCancellationType.ABANDON,
        )
        workflow.upsert_memo({  # once the run exists, so readers can look it up at once
            MEMO_KEY: {"schedule": inp.schedule, "skill": inp.skill, "run_id": prepared.run_id}
        })
        return await child

    async def _record_failure(self, inp: ScheduledRunInput, reason: str) -> None:
        info = workflow.info()
        await workflow.execute_local_activity(
            FINALIZE_ACTIVITY,
            FinalizeInput(
                run_id=info.workflow_id, skill=inp.skill, status="FAILED", summary=reason,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
                attempt_key=info.run_id[:8],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=10),
        )


async def started_run(client: Client, workflow_id: str, run: str | None) -> dict[str, Any]:
    """The sagaflow run one firing (a parent run) started, with its status.

    ``run_id`` is None until the child exists; ``status`` is the child's, or
    the parent's while there is no child.
    """
    from temporalio.service import RPCError

    try:
        parent = await client.get_workflow_handle(workflow_id, run_id=run or None).describe()
        run_id = ((await parent.memo()).get(MEMO_KEY) or {}).get("run_id")
        status = parent.status.name.lower() if parent.status else "unknown"
        if run_id:
            child = await client.get_workflow_handle(run_id).describe()
            status = child.status.name.lower() if child.status else "unknown"
    except RPCError:
        return {"run_id": None, "status": "unknown"}
    return {"run_id": run_id, "status": status}


async def why_not_started(client: Client, workflow_id: str, run: str | None) -> str:
    """The reason a closed parent run ended without starting its sagaflow run."""
    from temporalio.client import WorkflowFailureError

    try:
        await client.get_workflow_handle(workflow_id, run_id=run or None).result()
    except WorkflowFailureError as exc:
        return failure_reason(exc.cause)
    return "it ended without starting one"
