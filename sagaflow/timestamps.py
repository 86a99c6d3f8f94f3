"""Timestamps as sagaflow writes them: ISO 8601 in the machine's local time zone, with offset.

One spelling for run records, the inbox, worker/server state files and every ``--json``
output (``2026-11-29T10:04:05+01:00``; step timings carry milliseconds).
"""

from __future__ import annotations

from datetime import datetime
from typing import overload


@overload
def iso(value: datetime, timespec: str = ...) -> str: ...
@overload
def iso(value: datetime | None, timespec: str = ...) -> str | None: ...
def iso(value: datetime | None, timespec: str = "seconds") -> str | None:
    """``value`` in local time as ISO 8601 (``timespec`` as for ``isoformat``); None stays None.

    A naive ``value`` is taken as local time.
    """
    return value.astimezone().isoformat(timespec=timespec) if value else None


def now_iso(timespec: str = "seconds") -> str:
    """The current local time as ISO 8601 with offset."""
    return datetime.now().astimezone().isoformat(timespec=timespec)
