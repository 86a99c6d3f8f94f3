"""Cron expressions as Temporal Schedules accept them, checked locally.

The grammar mirrors the server's (``service/worker/scheduler/calendar.go``), so
a bad expression is refused with a precise message before anything is created:

* optional ``TZ=<zone>`` / ``CRON_TZ=<zone>`` prefix;
* ``@every <duration>[/<phase>]`` (``90m``, ``1h30m``, ``2d``), or ``@yearly``,
  ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``;
* 5 fields ``minute hour day-of-month month day-of-week``, 6 (adds ``year``) or
  7 (``second`` first, ``year`` last). Each field is ``*`` or a comma list of
  ``x``, ``x-y``, with an optional ``/step``; months and weekdays may be named
  (``jan``, ``mon-fri``). No ``?``, ``L`` or ``#``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from sagaflow.errors import UsageError

_BOUNDS = {
    "second": (0, 59), "minute": (0, 59), "hour": (0, 23), "day-of-month": (1, 31),
    "month": (1, 12), "day-of-week": (0, 7), "year": (2000, 2100),
}
_LAYOUTS = {
    5: ("minute", "hour", "day-of-month", "month", "day-of-week"),
    6: ("minute", "hour", "day-of-month", "month", "day-of-week", "year"),
    7: ("second", "minute", "hour", "day-of-month", "month", "day-of-week", "year"),
}
_PREDEFINED = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d))+$")
_HINT = "write five fields like '0 9 * * *' (minute hour day-of-month month day-of-week)"


def _fail(expr: str, problem: str) -> UsageError:
    return UsageError(f"Invalid --cron {expr!r}: {problem}; {_HINT}.")


def _value(text: str, name: str, low: int, expr: str) -> int:
    lowered = text.lower()
    if name == "month" and len(lowered) >= 3:
        hits = [i + 1 for i, m in enumerate(_MONTHS) if m.startswith(lowered)]
        if hits:
            return hits[0]
    if name == "day-of-week" and len(lowered) >= 2:
        hits = [i for i, d in enumerate(_DAYS) if d.startswith(lowered)]
        if hits:
            return hits[0]
    if not text.isdigit():
        raise _fail(expr, f"{name} has the bad token {text!r}")
    number, high = int(text), _BOUNDS[name][1]
    if not low <= number <= high:
        raise _fail(expr, f"{name} value {number} is out of range {low}-{high}")
    return number


def _field(text: str, name: str, expr: str) -> None:
    low, _ = _BOUNDS[name]
    for part in text.split(","):
        body, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) < 1 or "/" in step):
            raise _fail(expr, f"{name} has the bad step {part!r}")
        if body == "*":
            continue
        start, dash, end = body.partition("-")
        first = _value(start, name, low, expr)
        if dash:
            _value(end, name, first, expr)


def check_zone(zone: str) -> str:
    """``zone`` if it is an IANA time zone name this machine knows."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"Unknown time zone {zone!r}; use an IANA name such as UTC or Europe/Berlin."
        ) from None
    return zone


def local_zone() -> str:
    """This machine's IANA zone name (``TZ``, then ``/etc/localtime``), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    except OSError:
        pass
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                return check_zone(name)
            except UsageError:
                continue
    return "UTC"


def check(expr: str) -> str:
    """The normalized expression, or a UsageError saying what is wrong with it."""
    text = " ".join(expr.split())
    if not text:
        raise _fail(expr, "it is empty")
    body = text
    if body.startswith(("TZ=", "CRON_TZ=")):
        zone, _, body = body.partition(" ")
        check_zone(zone.split("=", 1)[1])
        if not body:
            raise _fail(expr, "nothing follows the time zone")
    if body.startswith("@every"):
        _, _, every = body.partition(" ")
        if not every or not all(_GO_DURATION.match(p) for p in every.split("/", 1)):
            raise _fail(expr, "@every needs a duration such as 90m or 1h30m")
        return text
    if body.startswith("@"):
        if body not in _PREDEFINED:
            raise _fail(expr, f"{body!r} is not one of {', '.join(sorted(_PREDEFINED))}")
        return text
    fields = body.split(" ")
    layout = _LAYOUTS.get(len(fields))
    if layout is None:
        raise _fail(expr, f"it has {len(fields)} fields, not 5 (or 6 with a year, 7 with seconds)")
    for name, value in zip(layout, fields, strict=True):
        _field(value, name, expr)
    return text


def _ranges(ranges: Any, low: int, high: int) -> str:
    if not ranges:
        return "*"
    parts = []
    for r in ranges:
        end = max(r.end, r.start)
        text = "*" if (r.start, end) == (low, high) else (
            str(r.start) if end == r.start else f"{r.start}-{end}"
        )
        parts.append(f"{text}/{r.step}" if r.step > 1 else text)
    return ",".join(parts)


def describe_calendar(cal: Any) -> str:
    """A Temporal ``ScheduleCalendarSpec`` as a 7-field cron line (sec ... year)."""
    fields = [
        _ranges(cal.second, 0, 59), _ranges(cal.minute, 0, 59), _ranges(cal.hour, 0, 23),
        _ranges(cal.day_of_month, 1, 31), _ranges(cal.month, 1, 12),
        _ranges(cal.day_of_week, 0, 6), _ranges(cal.year, 2000, 2100),
    ]
    return " ".join(fields)
