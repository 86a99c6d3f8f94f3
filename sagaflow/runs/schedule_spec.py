"""A schedule's spec: its time zone, the server's verdict on ``--cron``, and how to show it.

The cron grammar is the server's: ``schedule add`` sends the expression as written
(``cron_expressions`` of a Temporal ``ScheduleSpec``) and Temporal checks it when the
schedule is created; :func:`refusal` turns its ``INVALID_ARGUMENT`` answer into one
line. Temporal accepts 5 fields (``minute hour day-of-month month day-of-week``),
6 (adds ``year``) or 7 (``second`` first), names for months and weekdays, ``@daily``
and friends, ``@every 90m`` and a ``CRON_TZ=`` prefix.
"""

from __future__ import annotations

import os
from typing import Any

from sagaflow.errors import UsageError

HINT = "write five fields like '0 9 * * *' (minute hour day-of-month month day-of-week)"
#: how Temporal prefixes its verdict on a bad spec
_SERVER_PREFIX = "Invalid schedule spec:"


def normalize(expr: str) -> str:
    """The expression with runs of whitespace collapsed (what is stored and shown)."""
    return " ".join(expr.split())


def refusal(expr: str, server_message: str) -> UsageError:
    """The one-line error for a spec Temporal refused (``INVALID_ARGUMENT``) at creation.

    ``server_message`` is Temporal's, e.g. ``Invalid schedule spec: Minute is not in
    range [0-59]``; the result reads ``Invalid --cron '61 9 * * *': Minute is not in
    range [0-59] (Temporal); write five fields like ...``.
    """
    first = (server_message.splitlines() or [""])[0].strip()
    problem = first.removeprefix(_SERVER_PREFIX).strip()[:200] or "refused"
    if "time zone" in problem or "timezone" in problem:
        return UsageError(f"Invalid --cron {expr!r} or --tz: {problem} (Temporal); "
                          "use one zone, an IANA name such as UTC or Europe/Berlin.")
    return UsageError(f"Invalid --cron {expr!r}: {problem} (Temporal); {HINT}.")


def check_zone(zone: str) -> str:
    """``zone`` if it is an IANA time zone name this machine knows.

    Raises:
        UsageError: It is not.
    """
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
    """A Temporal ``ScheduleCalendarSpec`` as a 7-field cron line (second ... year)."""
    fields = [
        _ranges(cal.second, 0, 59), _ranges(cal.minute, 0, 59), _ranges(cal.hour, 0, 23),
        _ranges(cal.day_of_month, 1, 31), _ranges(cal.month, 1, 12),
        _ranges(cal.day_of_week, 0, 6), _ranges(cal.year, 2000, 2100),
    ]
    return " ".join(fields)
