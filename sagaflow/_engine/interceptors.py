"""Worker interceptors that give every skill the same guarantees.

* Every run carries a :class:`~sagaflow._engine.control.RunControl`: status
  query, validated approve/reject and pause updates, buffered signals, search
  attributes kept current.
* Before each activity the run honours a pause; before each model call it
  checks its budget against the call's worst case and parks in a budget gate
  instead of overspending (the user prompt's size is known from the
  ``write_artifact`` that wrote it, or from the input when it is inline, so no I/O
  happens in workflow code).
* The run's :class:`~sagaflow._engine.meta.RunConfig` (from its memo) is appended
  as the last argument of ``spawn_subagent`` and ``emit_finding``: how the
  built-in activities learn the transport, models, prices and skill dir.
* ``spawn_subagent`` returns a :class:`~sagaflow._engine.model_call.ModelStepResult`
  (history keeps it whole): here, and only here, its usage is recorded in the
  run control and the skill receives its ``output`` (``dict[str, str]``).
* Model calls are noticed dead within seconds: their heartbeat timeout is
  capped (they heartbeat from a background task).
* Per-step timeouts from the run's options override the skill's; a whole-run
  timeout cancels the skill (compensations run) and fails the run cleanly.
* Every run ends in the inbox: FAILED with its reason, CANCELLED with the
  cancel request's reason, or DONE with its result when the skill did not report
  itself. A cancel is a cancel wherever it lands: while parked, during a model
  call (the step's cancellation reaches the skill as an ``ActivityError``), or
  wrapped by the skill in an error of its own (the run then ends CANCELLED, not
  FAILED; patch :data:`CANCEL_WRAPPED_PATCH`).
* On a worker with plugins (:mod:`sagaflow.plugins`) a run hands its start and end to
  them and names itself to its steps (:mod:`sagaflow._engine.run_hooks`); no command
  is added, and without plugins nothing of it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.worker import (
    ContinueAsNewInput,
    ExecuteWorkflowInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from sagaflow._engine import agent_steps, meta, run_hooks
from sagaflow._engine.activities import CONFIGURED_ACTIVITIES
from sagaflow._engine.control import RunControl, run_options
from sagaflow._engine.failures import cancelled_summary, caused_by_cancel, failure_reason
from sagaflow._engine.framework_activities import FINALIZE_ACTIVITY, FinalizeInput
from sagaflow._engine.meta import (
    EMIT_FINDING,
    SPAWN_SUBAGENT,
    WRITE_ARTIFACT,
    RunConfig,
    RunOptions,
)
from sagaflow._engine.model_call import ModelStepResult
from sagaflow.durations import format_duration
from sagaflow.wiretypes import wire

if TYPE_CHECKING:
    from sagaflow._engine.hooks import Hooks

SUMMARY_LIMIT = 4000
#: patch marker of the deadline restart a retried run waits for (see ``_run_with_timeout``)
RESTART_PATCH = "sagaflow-retry-restarts-deadline"
#: how long a reset run whose old deadline fired waits for ``retry``'s restart signal
RESTART_GRACE = timedelta(seconds=10)
#: ``workflow.patched`` id: a cancellation the skill wrapped in an error of its own ends
#: the run CANCELLED (runs recorded before it replay their FAILED ending)
CANCEL_WRAPPED_PATCH = "sagaflow-cancel-wrapped"


def _field(value: Any, name: str) -> Any:
    """A field of an activity argument: a dataclass or the dict a skill passed instead."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _paid_usd(err: ActivityError) -> float:
    """What a failed model step was billed (``paid_usd`` in its failure's details)."""
    cause = err.cause
    details = cause.details if isinstance(cause, ApplicationError) else ()
    first = details[0] if details else None
    paid = first.get("paid_usd") if isinstance(first, dict) else None
    return float(paid) if isinstance(paid, int | float) else 0.0


def _config_for(activity: str, config: RunConfig | None) -> RunConfig | None:
    """The part of the run's config each built-in activity reads: ``spawn_subagent`` and
    the agent loop's steps all of it; ``write_artifact`` the allowed roots; ``emit_finding``
    the transport. The rest (models, prices: about 600 bytes) would be written into history
    with each step and decoded by the worker for nothing."""
    if config is None or activity == SPAWN_SUBAGENT or activity in agent_steps.AGENT_CONFIGURED:
        return config  # model calls (and the agent loop's steps) read models and prices
    if activity == WRITE_ARTIFACT:
        return RunConfig(transport=config.transport, allowed_roots=list(config.allowed_roots))
    return RunConfig(transport=config.transport)


def _plain(value: Any) -> Any:
    """JSON for what ``json`` cannot write: a pydantic model or a dataclass as its fields
    (the data the run's result payload holds), anything else as ``str``."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _summarize(result: Any) -> str:
    """The DONE entry's summary: a string as is, anything else as JSON."""
    text = result if isinstance(result, str) else json.dumps(result, default=_plain)
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT] + " …"


class _Outbound(WorkflowOutboundInterceptor):
    """Run config, pause, budget, model results and timeouts around activity starts."""

    def __init__(self, nxt: WorkflowOutboundInterceptor, cap: timedelta,
                 registered: frozenset[str] | set[str] = frozenset()) -> None:
        super().__init__(nxt)
        self.cap = cap
        self.registered = registered
        self.emitted = False
        self.control: RunControl | None = None
        self.options: RunOptions | None = None
        self.written: dict[str, int] = {}  # path -> bytes, from write_artifact inputs
        #: the run's skill, for its steps' plugin hooks (None: the worker has no plugins)
        self.hooked_skill: str | None = None

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        name = input.activity
        options = self.options
        if self.registered and name not in self.registered:
            self._refuse_unregistered(input)
        if name == EMIT_FINDING:
            self.emitted = True
        if name == WRITE_ARTIFACT and input.args:
            path, content = _field(input.args[0], "path"), _field(input.args[0], "content")
            if isinstance(path, str) and isinstance(content, str):
                self.written[path] = len(content.encode("utf-8"))
        if options is not None and name in options.step_timeouts:
            input.start_to_close_timeout = timedelta(seconds=options.step_timeouts[name])
        if (name in CONFIGURED_ACTIVITIES or name in agent_steps.AGENT_CONFIGURED) and len(
            input.args
        ) == 1:
            # Always a second argument (None: the worker's defaults apply): the SDK
            # decodes arguments by the activity's type hints only when the counts match.
            input.args = [*input.args, _config_for(name, options.config if options else None)]
        if self.hooked_skill is not None:
            input.headers = run_hooks.with_run_header(input.headers, self.hooked_skill)
        control = self.control
        agent_steps.question_notice(name, input.args, control)
        if name == SPAWN_SUBAGENT:
            if input.heartbeat_timeout is None or input.heartbeat_timeout > self.cap:
                input.heartbeat_timeout = self.cap
            return self._model_step(input, control)
        if name in agent_steps.AGENT_MODEL_STEPS:
            if input.heartbeat_timeout is None or input.heartbeat_timeout > self.cap:
                input.heartbeat_timeout = self.cap
            return agent_steps.model_turn(super().start_activity, input, control)  # type: ignore[no-any-return]
        if name in agent_steps.TOOL_STEPS:
            return agent_steps.tool_call(super().start_activity, input, control)  # type: ignore[no-any-return]
        if control is None or not control.paused:
            return super().start_activity(input)
        start = super().start_activity

        async def after_pause() -> Any:
            await control.wait_unpaused()
            return await start(input)

        return asyncio.ensure_future(after_pause())  # type: ignore[return-value]

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        agent_steps.carry_counts(self.control, input)
        super().continue_as_new(input)

    def _refuse_unregistered(self, input: StartActivityInput) -> None:
        """Fail a call to an activity this worker does not register, at once.

        Only for the run's own task queue (another queue's workers may register it):
        Temporal would otherwise retry the attempt forever, each failing with
        "not registered on this worker".
        """
        info = workflow.info()
        if input.task_queue not in (None, info.task_queue):
            return
        from sagaflow._engine.activity_check import unregistered_message

        skill = self.control.skill if self.control is not None else info.workflow_type
        raise ApplicationError(
            unregistered_message(skill, input.activity, "at run time", self.registered),
            type="UnregisteredActivity", non_retryable=True,
        )

    def _model_step(
        self, input: StartActivityInput, control: RunControl | None
    ) -> workflow.ActivityHandle[Any]:
        """The one place a model step's result is unwrapped for the skill.

        The activity returns :class:`ModelStepResult` whatever type the skill's
        call declared; the skill receives its ``output``.
        """
        input.ret_type = None  # decoded below: this shape or the envelope of earlier versions
        start = super().start_activity
        step = input.args[0] if input.args else None
        inline = _field(step, "user_prompt")  # ask_model's prompt travels in the input
        user = (len(inline.encode("utf-8")) if isinstance(inline, str) and inline
                else self.written.get(str(_field(step, "user_prompt_path"))))
        system = _field(step, "system_prompt")
        prompt_bytes = None if user is None else user + len(str(system or "").encode("utf-8"))
        max_tokens = _field(step, "max_tokens")
        tier = str(_field(step, "tier_name") or "")

        async def model_step() -> dict[str, str]:
            if control is not None:
                await control.wait_unpaused()
                await control.check_budget(control.worst_case_usd(
                    tier, prompt_bytes, max_tokens if isinstance(max_tokens, int) else 4096))
                await control.wait_unpaused()
            try:
                raw = await start(input)
            except ActivityError as err:
                paid = _paid_usd(err)
                if control is not None and paid:
                    control.record_paid(paid)
                raise
            result = ModelStepResult.from_history(raw)
            if control is not None:
                control.record_usage(result.usage)
            return result.output

        return asyncio.ensure_future(model_step())  # type: ignore[return-value]


class _Inbound(WorkflowInboundInterceptor):
    skills: ClassVar[dict[str, str]] = {}
    cap: ClassVar[timedelta] = timedelta(seconds=3)
    #: the activity names the worker registers (empty: unknown, e.g. in a Replayer)
    registered: ClassVar[set[str]] = set()
    #: the worker has plugins (sagaflow.plugins): run events out, run headers on steps
    hooks_on: ClassVar[bool] = False

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self._out = _Outbound(outbound, self.cap, self.registered)
        super().init(self._out)

    def _skill(self) -> str:
        info = workflow.info()
        skill = self.skills.get(info.workflow_type, info.workflow_type)
        return agent_steps.skill_of(skill) if agent_steps.is_agent(info.workflow_type) else skill

    async def _record(self, status: str, summary: str) -> None:
        info = workflow.info()
        await workflow.execute_local_activity(
            FINALIZE_ACTIVITY,
            FinalizeInput(
                run_id=info.workflow_id,
                skill=self._skill(),
                status=status,
                summary=summary,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
                attempt_key=info.run_id[-12:],  # UUIDv7: the tail is random
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=10),
        )

    async def _cancelled(self, control: RunControl) -> None:
        control.gates.clear()
        control.refresh("cancelled")
        summary = cancelled_summary(workflow.cancellation_reason())
        await self._record("CANCELLED", summary)
        if self.hooks_on:
            run_hooks.emit_run("after_run", control.skill, "CANCELLED", control, summary)

    def _control(self, options: RunOptions, args: Any = ()) -> RunControl:
        info = workflow.info()
        skill = self._skill()
        control = RunControl(skill, options)
        control.install()
        if agent_steps.is_agent(info.workflow_type):
            agent_steps.resume_counts(control, args)
            agent_steps.count_task_usage(control)
        launched = any(p.key.name == meta.SA_SKILL for p in info.typed_search_attributes)
        if launched:
            control.seen_initial()
        else:  # started by something other than sagaflow (e.g. the temporal CLI)
            from sagaflow._engine.search_attributes import keys

            workflow.upsert_search_attributes([keys()[meta.SA_SKILL].value_set(skill)])
            control.refresh()
        self._out.control = control
        self._out.options = options
        return control

    @wire  # a signal handler: its hints are read each time it is set, once per run
    def _restart_deadline(self, *_args: Any) -> None:
        """``retry``'s signal: the whole-run deadline starts over (see ``_run_with_timeout``)."""
        self._restarts[0] += 1

    async def _run_with_timeout(self, input: ExecuteWorkflowInput, seconds: float) -> Any:
        """Run the skill under the whole-run deadline; ``sagaflow retry`` restarts it.

        ``retry`` resets the run and then signals :data:`meta.SIGNAL_RESTART_DEADLINE`.
        The old deadline's timer is in the reused history, so in a reset run it may
        fire before the signal arrives: then the run waits up to
        :data:`RESTART_GRACE` for it (only in reset runs, behind a patch marker, so
        the histories of runs that never saw this code replay unchanged).
        """
        restarts = self._restarts
        info = workflow.info()
        task = asyncio.ensure_future(super().execute_workflow(input))
        seen = 0
        while not task.done():
            try:
                await workflow.wait_condition(
                    lambda s=seen: task.done() or restarts[0] > s,  # type: ignore[misc]
                    timeout=timedelta(seconds=seconds),
                )
            except TimeoutError:
                # only while this execution has seen no restart yet: once one arrived,
                # the deadline that fired is the restarted one and is final
                if (restarts[0] == 0 and info.run_id != info.first_execution_run_id
                        and workflow.patched(RESTART_PATCH)):
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(
                            lambda s=seen: restarts[0] > s,  # type: ignore[misc]
                            timeout=RESTART_GRACE,
                        )
                if restarts[0] > seen:  # the old deadline fired as a retry restarted it
                    seen = restarts[0]
                    continue
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task  # let the skill's compensations run; any outcome means timed out
                raise ApplicationError(
                    f"the run timed out after {format_duration(seconds)} (launch --timeout)",
                    type="RunTimeout", non_retryable=True,
                ) from None
            except asyncio.CancelledError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise
            seen = restarts[0]
        return task.result()

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        if info.workflow_type not in self.skills:  # sagaflow's own plumbing
            return await super().execute_workflow(input)
        if self.hooks_on:
            self._out.hooked_skill = self._skill()
        if agent_steps.is_agent(info.workflow_type) and info.parent is not None and (
            meta.MEMO_PARENT not in workflow.memo() or "--task-" in info.workflow_id
        ):  # a SKILL.md skill started by the ``child`` helper is a run of its own
            self._out.options = run_options()  # a Task sub-agent: its parent's config, no
            return await super().execute_workflow(input)  # control plane or inbox of its own
        options = run_options()
        self._restarts = [0]
        if options.timeout_seconds:  # only a deadline can restart (``retry`` signals no other
            # run); set before RunControl's dynamic handler, which would otherwise take a
            # buffered restart signal as its own and hand this handler its (name, args) shape.
            # Without one the handler's registration (about 0.2 ms a run) is skipped, and
            # RunControl drops the signal (nothing to restart).
            workflow.set_signal_handler(meta.SIGNAL_RESTART_DEADLINE, self._restart_deadline)
        control = self._control(options, input.args)
        if self.hooks_on:
            run_hooks.emit_run("before_run", control.skill, "RUNNING", control)
        timeout = options.timeout_seconds
        try:
            if timeout:
                result = await self._run_with_timeout(input, timeout)
            else:
                result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            raise
        except (asyncio.CancelledError, TemporalCancelledError):
            await self._cancelled(control)
            raise
        except Exception as exc:
            requested = workflow.cancellation_reason() is not None
            if requested and is_cancelled_exception(exc):  # e.g. cancelled during a model call
                await self._cancelled(control)
                raise
            if requested and caused_by_cancel(exc) and workflow.patched(CANCEL_WRAPPED_PATCH):
                await self._cancelled(control)
                raise TemporalCancelledError(workflow.cancellation_reason() or "") from exc
            control.gates.clear()
            reason = failure_reason(exc)
            control.refresh("timed_out" if "timed out after" in reason else "failed")
            await self._record("FAILED", reason)
            if self.hooks_on:
                run_hooks.emit_run("after_run", control.skill, "FAILED", control, reason)
            raise
        control.refresh("completed")
        if not self._out.emitted:
            await self._record("DONE", _summarize(result))
        if self.hooks_on:
            run_hooks.emit_run("after_run", control.skill, "DONE", control)
        return result


class SagaflowInterceptor(Interceptor):
    """Installs the inbound/outbound workflow interceptors described above."""

    def __init__(self, skills_by_workflow: dict[str, str], heartbeat_cap: float,
                 registered: set[str] | None = None, hooks: Hooks | None = None) -> None:
        self.skills_by_workflow = dict(skills_by_workflow)
        #: the worker's plugins (None: none loaded, and runs carry nothing for them)
        self.hooks = hooks
        self.heartbeat_cap = timedelta(seconds=heartbeat_cap)
        #: filled by the plugin once the worker's activities are known
        self.registered: set[str] = registered if registered is not None else set()

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        skills, cap = self.skills_by_workflow, self.heartbeat_cap

        class _Bound(_Inbound):
            pass

        _Bound.skills = skills
        _Bound.cap = cap
        _Bound.registered = self.registered
        if self.hooks is not None:
            from sagaflow._engine.hooks import EXTERN_RUN_EVENT

            input.unsafe_extern_functions[EXTERN_RUN_EVENT] = self.hooks.run_event
            _Bound.hooks_on = True
        return _Bound
