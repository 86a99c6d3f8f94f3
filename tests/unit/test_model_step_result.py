"""Decoding a model step's result from history: this version's shape and the 0.1 envelope."""

from __future__ import annotations

import pytest

from sagaflow._engine.model_call import ModelStepResult


def test_current_shape_decodes() -> None:
    raw = {
        "output": {"GREETING": "hello"},
        "usage": {"model": "m", "transport": "anthropic", "input_tokens": 3, "cost_usd": 0.5},
    }
    step = ModelStepResult.from_history(raw)
    assert step.output == {"GREETING": "hello"}
    assert step.usage.input_tokens == 3
    assert step.usage.cost_usd == 0.5


def test_envelope_of_earlier_versions_decodes_so_runs_in_flight_finish() -> None:
    raw = {
        "sagaflow_step": {
            "model": "claude-haiku-4-5", "transport": "anthropic", "role": "greeter",
            "input_tokens": 10, "output_tokens": 4, "cost_usd": None, "unknown_key": 1,
        },
        "value": {"GREETING": "hello, alice"},
    }
    step = ModelStepResult.from_history(raw)
    assert step.output == {"GREETING": "hello, alice"}
    assert (step.usage.model, step.usage.role, step.usage.output_tokens) == (
        "claude-haiku-4-5", "greeter", 4,
    )
    assert step.usage.cost_usd is None


@pytest.mark.parametrize("raw", [{"GREETING": "x"}, "text", None, {"output": {}}])
def test_other_shapes_fail_loudly(raw: object) -> None:
    with pytest.raises((TypeError, ValueError, KeyError)):
        ModelStepResult.from_history(raw)
