"""OpenTelemetry spans for sagaflow runs: the optional ``sagaflow[otel]`` extra.

Turned on by ``otel: true`` in config.yaml or ``SAGAFLOW_OTEL=1`` (read by the worker
when it starts); imported only then. :func:`setup` builds:

* Temporal's ``temporalio.contrib.opentelemetry.TracingInterceptor`` (with
  ``always_create_workflow_spans``, since ``launch`` starts runs without a client
  span; :class:`~.otel_interceptors.RunTracing` gives such a run a trace of its own):
  ``RunWorkflow:<type>``, ``StartActivity:<name>`` and ``RunActivity:<name>`` spans,
  trace context carried through Temporal headers;
* :class:`ModelSpans`, an activity interceptor inside it: the ``RunActivity`` span of
  each run's step gets ``sagaflow.run_id``, ``sagaflow.skill``, ``sagaflow.step`` and,
  for model steps, tokens and cost; each model call gets a span of its own,
  ``sagaflow.model_call`` (``gen_ai.*`` token attributes, ``sagaflow.cost_usd``);
* :class:`RunSpans`, a :mod:`sagaflow.plugins` plugin: at the end of each run one
  ``sagaflow.run`` span from the run's start to its end (workflow time) with its
  status, model calls, tokens and cost (a run outlives processes, so the span is made
  whole when the run ends), the root of the run's trace.

Export: the global tracer provider when the process already has an SDK one (e.g.
``opentelemetry-instrument``); otherwise an SDK provider with a batch processor and the
exporter ``OTEL_TRACES_EXPORTER`` names (``otlp``, the default; ``console``; ``none``).
The OTLP exporter reads the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_HEADERS``...); ``OTEL_EXPORTER_OTLP_PROTOCOL`` picks ``grpc`` or
``http/protobuf`` (the default); ``OTEL_SERVICE_NAME`` names the service
(default ``sagaflow-worker``).

Raises :class:`~sagaflow.errors.ConfigError` (one line) when the packages are missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sagaflow._engine.meta import SPAWN_SUBAGENT
from sagaflow.agent import TURN_ACTIVITY
from sagaflow.errors import ConfigError
from sagaflow.plugins import Plugin, RunEvent

MISSING = ("OpenTelemetry is turned on (otel in config.yaml or SAGAFLOW_OTEL) but its packages "
           "are not installed; run: pip install 'sagaflow[otel]' (or turn it off).")
#: model steps: their result's ``usage`` carries tokens and cost
MODEL_STEPS = frozenset({SPAWN_SUBAGENT, TURN_ACTIVITY})


def check_installed() -> None:
    """Raises ConfigError (:data:`MISSING`) unless the ``sagaflow[otel]`` packages import."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
        import temporalio.contrib.opentelemetry  # noqa: F401
    except ImportError as exc:
        raise ConfigError(MISSING) from exc


def _exporter() -> Any:
    """The span exporter the standard OTEL_* variables name (None: export nothing)."""
    chosen = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower()
    if chosen == "none":
        return None
    if chosen == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if chosen != "otlp":
        raise ConfigError(f"OTEL_TRACES_EXPORTER={chosen!r} is not supported by sagaflow; "
                          "use otlp, console or none.")
    protocol = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip()
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
                OTLPSpanExporter,
            )
    except ImportError as exc:
        raise ConfigError(MISSING) from exc
    return OTLPSpanExporter()


def default_provider() -> Any:
    """The process's SDK tracer provider, or a new one exporting as configured (set global)."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", "")
    provider = TracerProvider(resource=Resource.create(
        {} if named else {"service.name": "sagaflow-worker"}))
    exporter = _exporter()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _usage_attributes(result: Any) -> dict[str, Any]:
    usage = getattr(result, "usage", None)
    if usage is None:
        return {}
    cost = float(getattr(usage, "cost_usd", 0.0) or 0.0)
    return {
        "gen_ai.request.model": str(getattr(usage, "model", "") or ""),
        "gen_ai.usage.input_tokens": int(getattr(usage, "input_tokens", 0) or 0),
        "gen_ai.usage.output_tokens": int(getattr(usage, "output_tokens", 0) or 0),
        "sagaflow.tokens.cache_read": int(getattr(usage, "cache_read_input_tokens", 0) or 0),
        "sagaflow.tokens.cache_write": int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        "sagaflow.cost_usd": cost + float(getattr(usage, "retried_cost_usd", 0.0) or 0.0),
        "sagaflow.tier": str(getattr(usage, "tier", "") or ""),
        "sagaflow.transport": str(getattr(usage, "transport", "") or ""),
    }


def _fixed_ids(trace_id: int, span_id: int) -> Any:
    """An OTel SDK id generator that hands out one run's derived ids (see RunTracing)."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    class FixedIds(IdGenerator):
        def generate_trace_id(self) -> int:
            return trace_id

        def generate_span_id(self) -> int:
            return span_id

        def is_trace_id_random(self) -> bool:
            return False

    return FixedIds()


class RunSpans(Plugin):
    """One ``sagaflow.run`` span per run, made when it ends (see the module docstring).

    With an SDK tracer provider the span gets the ids the run's Temporal spans name as
    their root (:func:`~.otel_interceptors.run_trace_ids`), through a tracer of its own
    whose id generator returns them; hooks are called one at a time, so no other span
    shares that tracer.
    """

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def after_run(self, event: RunEvent) -> None:
        from opentelemetry.context import Context
        from opentelemetry.trace import SpanKind, Status, StatusCode

        from sagaflow._engine.otel_interceptors import run_trace_ids

        tracer = self.provider.get_tracer("sagaflow.run")
        if hasattr(tracer, "id_generator"):  # the SDK's Tracer: a fresh one per call
            tracer.id_generator = _fixed_ids(*run_trace_ids(event.workflow_id,
                                                           event.temporal_run_id))
        start_ns = int(datetime.fromisoformat(event.started_at).timestamp() * 1e9)
        span = tracer.start_span(
            f"sagaflow.run {event.skill}", Context(), kind=SpanKind.INTERNAL, start_time=start_ns,
            attributes={
                "sagaflow.run_id": event.run_id, "sagaflow.skill": event.skill,
                "sagaflow.status": event.status, "sagaflow.build": event.build,
                "sagaflow.model_calls": event.model_calls, "sagaflow.cost_usd": event.cost_usd,
                "gen_ai.usage.input_tokens": event.input_tokens,
                "gen_ai.usage.output_tokens": event.output_tokens,
                "sagaflow.tokens.cache_read": event.cache_read_input_tokens,
                "sagaflow.tokens.cache_write": event.cache_creation_input_tokens,
                "temporalWorkflowID": event.workflow_id, "temporalRunID": event.temporal_run_id,
            },
        )
        if event.status == "FAILED":
            span.set_status(Status(StatusCode.ERROR, event.error[:500]))
        span.end(end_time=start_ns + int(event.duration_seconds * 1e9))


@dataclass
class Otel:
    """What :func:`setup` built: Temporal's interceptor, sagaflow's step spans, run spans."""

    provider: Any
    tracing: Any  # temporalio.contrib.opentelemetry.TracingInterceptor
    steps: Any  # ModelSpans (a temporalio.worker.Interceptor)
    runs: RunSpans

    def flush(self) -> None:
        """Export what is buffered (the worker is stopping)."""
        flush: Callable[[], object] | None = getattr(self.provider, "force_flush", None)
        if flush is not None:
            flush()


def setup(skills_by_workflow: dict[str, str], provider: Any = None) -> Otel:
    """The OpenTelemetry pieces a worker adds (see the module docstring).

    Args:
        skills_by_workflow: Workflow type -> skill of the workflows that are runs.
        provider: A tracer provider (tests pass one with an in-memory exporter); default
            :func:`default_provider`.

    Raises:
        ConfigError: The ``sagaflow[otel]`` packages are not installed, or
            ``OTEL_TRACES_EXPORTER`` names an exporter sagaflow does not build.
    """
    check_installed()
    from sagaflow._engine.otel_interceptors import ModelSpans, RunTracing

    provider = provider if provider is not None else default_provider()
    tracer = provider.get_tracer("sagaflow")
    return Otel(provider, RunTracing(tracer, always_create_workflow_spans=True),
                ModelSpans(tracer, skills_by_workflow, _usage_attributes, MODEL_STEPS),
                RunSpans(provider))
