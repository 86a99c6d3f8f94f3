"""Durations: human text (``90s``, ``30m``, ``2h``, ``7d``, ``1h30m``, ``2w``) for the
command line, and the one rule for durations in workflow code (:func:`to_timedelta`:
seconds as ``int | float`` or a ``datetime.timedelta``)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from sagaflow.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str, *, option: str = "duration", allow_zero: bool = False) -> float:
    """Seconds in ``text``.

    Raises:
        UsageError: naming ``option`` when the text is not a duration.
    """
    raw = text.strip().lower()
    parts = _PART.findall(raw)
    if not raw or "".join(n + u for n, u in parts) != raw:
        raise UsageError(
            f"{option} {text!r} is not a duration; write it like 90s, 30m, 2h, 7d or 1h30m."
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0 and not allow_zero:
        raise UsageError(f"{option} {text!r} must be longer than zero.")
    if seconds > MAX_SECONDS:
        raise UsageError(f"{option} {text!r} is longer than Temporal can carry; give at most "
                         "10,000 years (520000w).")
    return seconds


def format_duration(seconds: float) -> str:
    """``3725`` -> ``1h2m5s``; sub-minute values keep one decimal."""
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds % 1 else f"{int(seconds)}s"
    whole = round(seconds)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            out += f"{whole // size}{unit}"
            whole %= size
    return out


#: what a duration parameter of a workflow helper accepts (for type hints)
Duration = int | float | timedelta

#: the longest duration Temporal can carry: a protobuf ``Duration`` holds at most
#: 315,576,000,000 seconds (10,000 years); a longer one fails deep in the SDK's converter
MAX_SECONDS = 315_576_000_000


def to_timedelta(value: object, param: str, *, allow_zero: bool = False) -> timedelta:
    """``value`` (seconds as ``int | float``, or a ``timedelta``) as a ``timedelta``.

    The one rule every duration parameter of the workflow helpers follows
    (``ask_model(timeout=)``, ``sleep``, ``ApprovalGate(timeout=)``,
    ``wait_for_signal(timeout=)``...).

    Raises:
        TypeError: ``value`` is neither (``bool`` and numeric strings included),
            naming ``param`` and the accepted types.
        ValueError: ``value`` is negative, zero (unless ``allow_zero``), NaN, infinite, or
            longer than :data:`MAX_SECONDS` (10,000 years).
    """
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{param} must be a finite number of seconds, not {value!r}.")
        if value > MAX_SECONDS:  # before timedelta(), which overflows past ~2.7e6 years
            raise ValueError(_too_long(param, f"{value:g}s"))
        if value < 0 or (value == 0 and not allow_zero):  # -1e30 would overflow timedelta()
            raise ValueError(f"{param} must be longer than zero, not {value:g}s.")
        delta = timedelta(seconds=value)
    else:
        raise TypeError(
            f"{param} must be seconds (int or float) or a datetime.timedelta, "
            f"not {type(value).__name__} {value!r:.60}."
        )
    if delta < timedelta(0) or (delta == timedelta(0) and not allow_zero):
        raise ValueError(f"{param} must be longer than zero, not {delta.total_seconds():g}s.")
    if delta.total_seconds() > MAX_SECONDS:
        raise ValueError(_too_long(param, f"{delta.total_seconds():g}s"))
    return delta


def _too_long(param: str, shown: str) -> str:
    return (f"{param} must be at most {MAX_SECONDS:,} seconds (10,000 years, the longest "
            f"duration Temporal carries), not {shown}.")


def to_seconds(value: object, param: str, *, allow_zero: bool = False) -> float:
    """:func:`to_timedelta` in seconds (same errors)."""
    return to_timedelta(value, param, allow_zero=allow_zero).total_seconds()
