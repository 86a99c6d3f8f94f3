"""sagaflow's OpenTelemetry interceptors (``sagaflow[otel]``; built by :func:`.otel.setup`).

:class:`RunTracing` is Temporal's ``TracingInterceptor`` with one change: a run started
without a trace context (``launch`` creates no client span) gets one derived from its
workflow id and execution (:func:`run_trace_ids`), so every span of the run is in one
trace, under the ``sagaflow.run`` span that :class:`~.otel.RunSpans` makes with those
very ids when the run ends. Derived, not random: a worker that replays the run after a
restart puts its spans in the same trace.

:class:`ModelSpans` is an activity interceptor placed inside Temporal's
``TracingInterceptor``, so the current span when a step runs is its
``RunActivity:<name>`` span. For each step of a sagaflow run it adds
``sagaflow.run_id``, ``sagaflow.skill`` (from the ``sagaflow-run`` header, so a
SKILL.md run names its skill) and ``sagaflow.step`` to that span; a model
step also gets a child span ``sagaflow.model_call`` around the call, and both spans
get its model, tokens (``gen_ai.usage.input_tokens`` / ``output_tokens``,
``sagaflow.tokens.cache_read`` / ``cache_write``) and cost (``sagaflow.cost_usd``,
USD) once it returns. Imports opentelemetry: only loaded when OTel is turned on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from temporalio import activity, workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    WorkflowInterceptorClassInput,
)

from sagaflow._engine.run_hooks import identity

#: ``result -> attributes`` of a model step (tokens, cost, model)
UsageAttributes = Callable[[Any], dict[str, Any]]


def run_trace_ids(workflow_id: str, execution: str) -> tuple[int, int]:
    """The trace id and root span id of one execution of a run (never 0, as OTel requires)."""
    digest = hashlib.sha256(f"{workflow_id}/{execution}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1


class _RunTraced(TracingWorkflowInboundInterceptor):
    def _load_workflow_context_carrier(self) -> dict[str, Any] | None:
        # temporalio 1.35's hook for "the context of the whole workflow" (header, else
        # none): with no header, the run's derived context instead of a new trace per span
        found = super()._load_workflow_context_carrier()
        if found:
            return found
        info = workflow.info()
        trace_id, span_id = run_trace_ids(info.workflow_id, info.run_id)
        self._workflow_context_carrier = {"traceparent": f"00-{trace_id:032x}-{span_id:016x}-01"}
        return self._workflow_context_carrier


class RunTracing(TracingInterceptor):
    """Temporal's tracing interceptor; a run without a trace context gets its own (above)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span extern function
        return _RunTraced


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, nxt: ActivityInboundInterceptor, owner: ModelSpans) -> None:
        super().__init__(nxt)
        self.owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        owner = self.owner
        fallback = owner.runs.get(info.workflow_type or "")
        if fallback is None:
            return await super().execute_activity(input)
        run_id, skill = identity(input.headers, info.workflow_id or "", fallback)
        step_span = trace.get_current_span()
        step_span.set_attributes({"sagaflow.run_id": run_id,
                                  "sagaflow.skill": skill, "sagaflow.step": info.activity_type,
                                  "sagaflow.attempt": info.attempt})
        if info.activity_type not in owner.model_steps:
            return await super().execute_activity(input)
        with owner.tracer.start_as_current_span(
            "sagaflow.model_call", kind=SpanKind.CLIENT, set_status_on_exception=False,
            attributes={"sagaflow.run_id": run_id, "sagaflow.skill": skill,
                        "sagaflow.step": info.activity_type},
        ) as span:
            try:
                result = await super().execute_activity(input)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:500]))
                raise
            usage = owner.usage(result)
            span.set_attributes(usage)
            step_span.set_attributes(usage)
            return result


class ModelSpans(Interceptor):
    """Adds sagaflow's attributes and model-call spans to a worker's steps.

    Args:
        tracer: The OpenTelemetry tracer.
        runs: Workflow type -> skill of the workflows that are sagaflow runs.
        usage: Attributes of a model step's result.
        model_steps: The activity names that are model calls.
    """

    def __init__(self, tracer: Any, runs: Mapping[str, str], usage: UsageAttributes,
                 model_steps: Collection[str]) -> None:
        self.tracer = tracer
        self.runs = dict(runs)
        self.usage = usage
        self.model_steps = frozenset(model_steps)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self)
