"""Worker interceptors that give every skill the same guarantees.

* Every run carries a :class:`~sagaflow._engine.control.RunControl`: status
  query, validated approve/reject and pause updates, buffered signals, search
  attributes kept current.
* Before each activity the run honours a pause; before each model call it
  checks its budget and parks in a budget gate instead of overspending.
* ``spawn_subagent`` results arrive as an envelope with tokens and cost: the
  usage is recorded and the skill receives the plain value.
* Model calls are noticed dead within seconds: their heartbeat timeout is
  capped (they heartbeat from a background task).
* Per-step timeouts from the run's options override the skill's; a whole-run
  timeout cancels the skill (compensations run) and fails the run cleanly.
* Every run ends in the inbox: FAILED with its reason, CANCELLED, or DONE with
  its result when the skill did not report itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.converter import value_to_type
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from sagaflow._engine import meta
from sagaflow._engine.control import RunControl
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.framework_activities import FINALIZE_ACTIVITY, FinalizeInput
from sagaflow.durations import format_duration

MODEL_ACTIVITIES = frozenset({"spawn_subagent"})
SUMMARY_LIMIT = 4000


def _summarize(result: Any) -> str:
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT] + " …"


class _Outbound(WorkflowOutboundInterceptor):
    """Pause, budget, envelope and timeout handling around activity starts."""

    def __init__(self, nxt: WorkflowOutboundInterceptor, cap: timedelta) -> None:
        super().__init__(nxt)
        self.cap = cap
        self.emitted = False
        self.control: RunControl | None = None
        self.step_timeouts: dict[str, float] = {}

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        name = input.activity
        if name == "emit_finding":
            self.emitted = True
        if name in self.step_timeouts:
            input.start_to_close_timeout = timedelta(seconds=self.step_timeouts[name])
        model = name in MODEL_ACTIVITIES
        if model and (input.heartbeat_timeout is None or input.heartbeat_timeout > self.cap):
            input.heartbeat_timeout = self.cap
        control = self.control
        if control is None or not (model or control.paused):
            return super().start_activity(input)
        ret_type = input.ret_type
        if model:
            input.ret_type = None
        start = super().start_activity

        async def gated() -> Any:
            await control.wait_unpaused()
            if model:
                await control.check_budget()
                await control.wait_unpaused()
            result = await start(input)
            if not model:
                return result
            if isinstance(result, dict) and meta.ENVELOPE_KEY in result:
                control.record_usage(result.get(meta.ENVELOPE_KEY) or {})
                result = result.get(meta.ENVELOPE_VALUE)
            return value_to_type(ret_type, result) if ret_type not in (None, Any) else result

        return asyncio.ensure_future(gated())  # type: ignore[return-value]


class _Inbound(WorkflowInboundInterceptor):
    skills: ClassVar[dict[str, str]] = {}
    cap: ClassVar[timedelta] = timedelta(seconds=3)

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self._out = _Outbound(outbound, self.cap)
        super().init(self._out)

    async def _record(self, status: str, summary: str) -> None:
        info = workflow.info()
        await workflow.execute_local_activity(
            FINALIZE_ACTIVITY,
            FinalizeInput(
                run_id=info.workflow_id,
                skill=self.skills.get(info.workflow_type, info.workflow_type),
                status=status,
                summary=summary,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
                attempt_key=info.run_id[-12:],  # UUIDv7: the tail is random
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=10),
        )

    def _control(self) -> tuple[RunControl, dict[str, Any]]:
        info = workflow.info()
        skill = self.skills.get(info.workflow_type, info.workflow_type)
        options = workflow.memo_value(meta.MEMO_OPTIONS, None)
        options = options if isinstance(options, dict) else {}
        control = RunControl(skill, options)
        control.install()
        launched = any(p.key.name == meta.SA_SKILL for p in info.typed_search_attributes)
        if launched:
            control.seen_initial()
        else:  # started by something other than sagaflow (e.g. the temporal CLI)
            from sagaflow._engine.search_attributes import keys

            workflow.upsert_search_attributes([keys()[meta.SA_SKILL].value_set(skill)])
            control.refresh()
        self._out.control = control
        self._out.step_timeouts = {
            str(k): float(v) for k, v in (options.get("step_timeouts") or {}).items()
        }
        return control, options

    async def _run_with_timeout(self, input: ExecuteWorkflowInput, seconds: float) -> Any:
        task = asyncio.ensure_future(super().execute_workflow(input))
        try:
            await workflow.wait_condition(task.done, timeout=timedelta(seconds=seconds))
        except TimeoutError:
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
        return task.result()

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if workflow.info().workflow_type not in self.skills:  # sagaflow's own plumbing
            return await super().execute_workflow(input)
        control, options = self._control()
        timeout = options.get("timeout_seconds")
        try:
            if timeout:
                result = await self._run_with_timeout(input, float(timeout))
            else:
                result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            raise
        except (asyncio.CancelledError, TemporalCancelledError):
            control.gates.clear()
            control.refresh("cancelled")
            await self._record("CANCELLED", "cancelled by request; compensations (if any) ran")
            raise
        except Exception as exc:
            control.gates.clear()
            reason = failure_reason(exc)
            control.refresh("timed_out" if "timed out after" in reason else "failed")
            await self._record("FAILED", reason)
            raise
        control.refresh("completed")
        if not self._out.emitted:
            await self._record("DONE", _summarize(result))
        return result


class SagaflowInterceptor(Interceptor):
    """Installs the inbound/outbound workflow interceptors described above."""

    def __init__(self, skills_by_workflow: dict[str, str], heartbeat_cap: float) -> None:
        self.skills_by_workflow = dict(skills_by_workflow)
        self.heartbeat_cap = timedelta(seconds=heartbeat_cap)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        skills, cap = self.skills_by_workflow, self.heartbeat_cap

        class _Bound(_Inbound):
            pass

        _Bound.skills = skills
        _Bound.cap = cap
        return _Bound
