"""Dataclasses that cross Temporal's converter carry resolved hints and decode as before."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest
from temporalio.converter import DataConverter

from sagaflow._engine import control_types, framework_activities, meta, model_call, scheduled, seeds
from sagaflow.config import Settings
from sagaflow.pricing import Price
from sagaflow.wiretypes import wire

WIRE = [
    Price, meta.RunConfig, meta.RunOptions, model_call.StepUsage, model_call.ModelStepResult,
    seeds.WriteArtifactInput, seeds.SpawnSubagentInput, seeds.EmitFindingInput,
    control_types.GateInboxInput, control_types.DecisionRequest, control_types.Decision,
    control_types.Gate, control_types.PauseRequest, control_types.RunStatus,
    framework_activities.FinalizeInput, scheduled.ScheduledRunInput, scheduled.PreparedRun,
]


@pytest.mark.parametrize("cls", WIRE, ids=lambda c: c.__name__)
def test_hints_are_objects_not_strings(cls: type) -> None:
    own = inspect.get_annotations(cls)
    assert own and not [name for name, hint in own.items() if isinstance(hint, str)]
    assert typing.get_type_hints(cls) == own  # nothing left to evaluate per decode
    assert [f.name for f in dataclasses.fields(cls)] == list(own)  # the dataclass unchanged


def test_a_run_config_round_trips_through_the_converter() -> None:
    config = meta.RunConfig.from_settings(Settings(), "anthropic", "/skills/x")
    options = meta.RunOptions(base_queue="q", budget_usd=1.5, config=config)
    converter = DataConverter.default.payload_converter
    [payload] = converter.to_payloads([options])
    [back] = converter.from_payloads([payload], [meta.RunOptions])
    assert back == options and isinstance(back.config.prices[next(iter(back.config.prices))], Price)


def test_an_unresolvable_hint_is_refused_at_definition() -> None:
    with pytest.raises(NameError):

        @wire
        @dataclasses.dataclass
        class Broken:
            value: NotImportedAnywhere  # type: ignore[name-defined]  # noqa: F821


@pytest.mark.parametrize("name", ["status", "validate_decide", "decide", "validate_pause",
                                  "pause", "_on_signal"])
def test_run_control_handlers_carry_resolved_hints(name: str) -> None:
    from sagaflow._engine.control import RunControl

    hints = inspect.get_annotations(getattr(RunControl, name))
    assert hints and not [k for k, v in hints.items() if isinstance(v, str)], hints
