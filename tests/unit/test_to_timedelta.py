"""The durations rule of workflow code: seconds (int | float) or a timedelta, nothing else."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from sagaflow.durations import to_seconds, to_timedelta


@pytest.mark.parametrize(("value", "expected"), [
    (90, timedelta(seconds=90)),
    (1.5, timedelta(seconds=1.5)),
    (timedelta(hours=2), timedelta(hours=2)),
])
def test_seconds_and_timedeltas_are_accepted(value: object, expected: timedelta) -> None:
    assert to_timedelta(value, "timeout") == expected
    assert to_seconds(value, "timeout") == expected.total_seconds()


@pytest.mark.parametrize(("value", "kind"), [
    ("90s", "str '90s'"), (True, "bool True"), (None, "NoneType None"), ([1], "list [1]"),
])
def test_other_types_raise_type_error_naming_the_parameter(value: object, kind: str) -> None:
    with pytest.raises(TypeError) as info:
        to_timedelta(value, "timeout")
    assert str(info.value) == (
        f"timeout must be seconds (int or float) or a datetime.timedelta, not {kind}.")


@pytest.mark.parametrize("value", [0, -1, timedelta(seconds=-5), 0.0])
def test_zero_and_negative_raise_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"^duration must be longer than zero"):
        to_timedelta(value, "duration")


def test_zero_is_allowed_when_asked() -> None:
    assert to_timedelta(0, "delay", allow_zero=True) == timedelta(0)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_and_infinity_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be a finite number of seconds"):
        to_timedelta(value, "timeout")


def test_approval_gate_takes_either_timeout_name_in_seconds_or_timedelta() -> None:
    from sagaflow._engine.helpers import ApprovalGate

    assert ApprovalGate(timeout=timedelta(minutes=5)).timeout_seconds == 300.0
    assert ApprovalGate(timeout_seconds=timedelta(hours=1)).timeout_seconds == 3600.0
    assert ApprovalGate(90).timeout_seconds == 90.0
    assert ApprovalGate().timeout_seconds is None


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"timeout": 5, "timeout_seconds": 5}, TypeError,
     "ApprovalGate takes timeout or timeout_seconds, not both."),
    ({"timeout": "1h"}, TypeError,
     "timeout must be seconds (int or float) or a datetime.timedelta, not str '1h'."),
    ({"timeout_seconds": 0}, ValueError, "timeout_seconds must be longer than zero, not 0s."),
    ({"default": "maybe"}, ValueError, "default must be 'approve' or 'reject', not 'maybe'."),
])
def test_approval_gate_bad_timeouts(kwargs: dict[str, object], error: type[Exception],
                                    message: str) -> None:
    from sagaflow._engine.helpers import ApprovalGate

    with pytest.raises(error) as info:
        ApprovalGate(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_run_shell_input_takes_a_timedelta_and_stays_json() -> None:
    from sagaflow._engine.compat_seeds import RunShellInput

    assert RunShellInput("ls", timeout_seconds=timedelta(minutes=2)).timeout_seconds == 120.0
    assert RunShellInput("ls").timeout_seconds == 300.0
    with pytest.raises(TypeError, match=r"^timeout_seconds must be seconds"):
        RunShellInput("ls", timeout_seconds="2m")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [10**30, 1e12, timedelta(days=999_999_999)])
def test_a_duration_past_what_temporal_carries_is_one_sentence(value: object) -> None:
    with pytest.raises(ValueError) as info:
        to_timedelta(value, "duration")
    assert str(info.value).startswith("duration must be at most 315,576,000,000 seconds")


def test_a_huge_negative_number_is_refused_as_negative_not_as_an_overflow() -> None:
    with pytest.raises(ValueError, match=r"^duration must be longer than zero, not -1e\+30s\.$"):
        to_timedelta(-10**30, "duration")


def test_the_command_line_refuses_a_duration_temporal_cannot_carry() -> None:
    from sagaflow.durations import parse_duration
    from sagaflow.errors import UsageError

    assert parse_duration("520000w") == 520000 * 604800
    with pytest.raises(UsageError, match="longer than Temporal can carry"):
        parse_duration("99999999999w")
