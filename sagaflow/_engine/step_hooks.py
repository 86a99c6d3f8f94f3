"""The activity side of the plugin hooks: ``before_step`` / ``after_step`` / ``on_error``.

:class:`StepHooksInterceptor` is added to a worker by
:class:`~sagaflow._engine.plugin.SagaflowPlugin` only when plugins are loaded. Around
every attempt of a run's step (an activity of a workflow that is a sagaflow run; the
framework's own inbox and scheduling activities are not steps) it hands
:class:`~sagaflow.plugins.StepEvent` s to :class:`~sagaflow._engine.hooks.Hooks` and
never waits for them: the step's result or failure is returned or raised unchanged.

The run id and skill come from the ``sagaflow-run`` header the workflow interceptor
adds (:mod:`sagaflow._engine.run_hooks`); an activity scheduled without it (a local
activity of the skill's own, a run started before the worker had plugins) is named by
its workflow id and the workflow type's skill. Tokens and cost come from a model
step's result (``.usage``: ``ModelStepResult``, the agent loop's ``TurnResult``) or,
for a failed but billed call, from the failure's ``paid_usd`` detail.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Mapping
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from sagaflow._engine.control_types import GATE_ACTIVITY
from sagaflow._engine.framework_activities import FINALIZE_ACTIVITY
from sagaflow._engine.hooks import Hooks
from sagaflow._engine.run_hooks import identity
from sagaflow.plugins import StepEvent
from sagaflow.pricing import USAGE_KEYS

#: the framework's bookkeeping activities: not a run's steps
NOT_STEPS = frozenset({FINALIZE_ACTIVITY, GATE_ACTIVITY})


def _usage(value: Any) -> dict[str, Any]:
    """Model, tokens and cost of a step's result (empty for steps that are no model call)."""
    usage = getattr(value, "usage", None)
    if usage is None:
        return {}
    found: dict[str, Any] = {key: int(getattr(usage, key, 0) or 0) for key in USAGE_KEYS}
    found["model"] = str(getattr(usage, "model", "") or "")
    found["cost_usd"] = float(getattr(usage, "cost_usd", 0.0) or 0.0) + float(
        getattr(usage, "retried_cost_usd", 0.0) or 0.0)
    return found


def _paid(exc: BaseException) -> float:
    """USD a failed model call was billed (``paid_usd`` in its ApplicationError details)."""
    details = exc.details if isinstance(exc, ApplicationError) else ()
    first = details[0] if details else None
    paid = first.get("paid_usd") if isinstance(first, dict) else None
    return float(paid) if isinstance(paid, int | float) else 0.0


def _error_text(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    kind = exc.type if isinstance(exc, ApplicationError) and exc.type else type(exc).__name__
    return f"{kind}: {text}"[:1000] if text else kind


class _StepInbound(ActivityInboundInterceptor):
    def __init__(self, nxt: ActivityInboundInterceptor, hooks: Hooks,
                 runs: Mapping[str, str]) -> None:
        super().__init__(nxt)
        self.hooks = hooks
        self.runs = runs

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.workflow_type not in self.runs or info.activity_type in NOT_STEPS:
            return await super().execute_activity(input)
        run_id, skill = identity(input.headers, info.workflow_id or "",
                                 self.runs.get(info.workflow_type or "", ""))
        step = functools.partial(
            StepEvent, run_id=run_id, skill=skill, workflow_id=info.workflow_id or "",
            temporal_run_id=info.workflow_run_id or "", build=self.hooks.build,
            step=info.activity_type, activity_id=info.activity_id, attempt=info.attempt,
        )
        self.hooks.emit("before_step", step(status="RUNNING"))
        started = time.monotonic()
        try:
            result = await super().execute_activity(input)
        except BaseException as exc:
            seconds = time.monotonic() - started
            cancelled = isinstance(exc, asyncio.CancelledError | TemporalCancelledError)
            retry = not cancelled and not (isinstance(exc, ApplicationError) and exc.non_retryable)
            event = step(status="CANCELLED" if cancelled else "FAILED",
                              duration_seconds=seconds, cost_usd=_paid(exc),
                              error=_error_text(exc), will_retry=retry)
            self.hooks.emit("after_step", event)
            if not cancelled:
                self.hooks.emit("on_error", event)
            raise
        event = step(status="DONE", duration_seconds=time.monotonic() - started,
                          **_usage(result))
        self.hooks.emit("after_step", event)
        return result


class StepHooksInterceptor(Interceptor):
    """Adds the step hooks to a worker's activities.

    Args:
        hooks: The worker's loaded plugins.
        runs: Workflow type -> skill name of the workflows that are sagaflow runs.
    """

    def __init__(self, hooks: Hooks, runs: Mapping[str, str]) -> None:
        self.hooks = hooks
        self.runs = dict(runs)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _StepInbound(next, self.hooks, self.runs)
