"""Step and model-call spans (``sagaflow[otel]``; built by :func:`sagaflow._engine.otel.setup`).

:class:`ModelSpans` is an activity interceptor placed inside Temporal's
``TracingInterceptor``, so the current span when a step runs is its
``RunActivity:<name>`` span. For each step of a sagaflow run it adds
``sagaflow.run_id``, ``sagaflow.skill`` and ``sagaflow.step`` to that span; a model
step also gets a child span ``sagaflow.model_call`` around the call, and both spans
get its model, tokens (``gen_ai.usage.input_tokens`` / ``output_tokens``,
``sagaflow.tokens.cache_read`` / ``cache_write``) and cost (``sagaflow.cost_usd``,
USD) once it returns. Imports opentelemetry: only loaded when OTel is turned on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

#: ``result -> attributes`` of a model step (tokens, cost, model)
UsageAttributes = Callable[[Any], dict[str, Any]]


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, nxt: ActivityInboundInterceptor, owner: ModelSpans) -> None:
        super().__init__(nxt)
        self.owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        owner = self.owner
        skill = owner.runs.get(info.workflow_type or "")
        if skill is None:
            return await super().execute_activity(input)
        step_span = trace.get_current_span()
        step_span.set_attributes({"sagaflow.run_id": info.workflow_id or "",
                                  "sagaflow.skill": skill, "sagaflow.step": info.activity_type,
                                  "sagaflow.attempt": info.attempt})
        if info.activity_type not in owner.model_steps:
            return await super().execute_activity(input)
        with owner.tracer.start_as_current_span(
            "sagaflow.model_call", kind=SpanKind.CLIENT, set_status_on_exception=False,
            attributes={"sagaflow.run_id": info.workflow_id or "", "sagaflow.skill": skill,
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
