"""OpenTelemetry (the ``sagaflow[otel]`` extra) in process, into an in-memory span exporter.

The two-step test skill runs on the in-process worker with ``otel.setup`` given a tracer
provider whose exporter keeps the spans: a span per run (Temporal's ``RunWorkflow`` and
sagaflow's ``sagaflow.run`` with the run's totals), per step (``RunActivity``, with
sagaflow's attributes) and per model call (``sagaflow.model_call``, tokens and cost).
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import Engine
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from sagaflow._engine import otel
from sagaflow._engine.worker import collect


def test_spans_per_run_step_and_model_call_with_tokens_and_cost(engine: Engine) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _, _, names = collect(engine.loaded)
    engine.otel = otel.setup(names, provider=provider)

    async def scenario(engine: Engine) -> tuple[str, str]:
        handle = await engine.launch("two-step", {"topic": "tides"})
        return handle.id, await handle.result()

    run_id, result = engine.run(scenario)  # the worker's stop drains the run span's hook
    assert result == "1 + 2"
    spans = exporter.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)

    assert len(by_name["RunWorkflow:TwoStepWorkflow"]) == 1
    assert len(by_name["RunActivity:write_artifact"]) == 2
    steps = by_name["RunActivity:spawn_subagent"]
    calls = by_name["sagaflow.model_call"]
    assert len(steps) == len(calls) == 2
    for step, call in zip(steps, calls, strict=True):
        assert call.parent is not None and call.parent.span_id == step.context.span_id
        for span in (step, call):
            attrs = dict(span.attributes or {})
            assert attrs["sagaflow.run_id"] == run_id and attrs["sagaflow.skill"] == "two-step"
            assert attrs["gen_ai.usage.input_tokens"] == 1_000_000
            assert attrs["gen_ai.usage.output_tokens"] == 10
            assert attrs["sagaflow.cost_usd"] > 0 and attrs["gen_ai.request.model"]
    # every span of the run is in one trace, under the sagaflow.run span
    (run,) = by_name["sagaflow.run two-step"]
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}
    assert run.parent is None
    assert by_name["RunWorkflow:TwoStepWorkflow"][0].parent.span_id == run.context.span_id
    attrs = dict(run.attributes or {})
    assert (attrs["sagaflow.run_id"], attrs["sagaflow.status"]) == (run_id, "DONE")
    assert attrs["sagaflow.model_calls"] == 2 and attrs["gen_ai.usage.input_tokens"] == 2_000_000
    assert attrs["sagaflow.cost_usd"] == pytest.approx(
        sum(dict(c.attributes or {})["sagaflow.cost_usd"] for c in calls))
    assert run.end_time >= run.start_time and run.status.status_code != StatusCode.ERROR


def test_missing_packages_are_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_otel(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opentelemetry"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_otel)
    from sagaflow.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        otel.setup({})
    assert "pip install 'sagaflow[otel]'" in caught.value.message
    assert "\n" not in caught.value.message


def test_exporter_follows_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    from sagaflow.errors import ConfigError

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    assert isinstance(otel._exporter(), Http)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert isinstance(otel._exporter(), Grpc)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert isinstance(otel._exporter(), ConsoleSpanExporter)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert otel._exporter() is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfigError, match="use otlp, console or none"):
        otel._exporter()
