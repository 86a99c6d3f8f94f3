"""Human durations: ``90s``, ``30m``, ``2h``, ``7d``, ``1h30m``, ``2w``."""

from __future__ import annotations

import re

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
