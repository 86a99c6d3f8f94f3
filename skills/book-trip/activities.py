"""book-trip's own activities: hold, confirm and cancel reservations.

A stand-in for a booking API: each call updates ``trip.json`` in the run's directory
(one entry per item: what, its reference and its state). Each is idempotent, as
activities must be (Temporal may run one again after a crash): holding an item twice
gives the same reference, cancelling a cancelled item does nothing.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from temporalio import activity


@dataclass(frozen=True)
class Hold:
    ledger: str  # the run's trip.json
    kind: str  # flight | hotel
    item: str  # what the planner proposed


@dataclass(frozen=True)
class Change:
    ledger: str
    refs: list[str]  # references returned by trip_reserve


def _read(ledger: str) -> dict[str, dict[str, str]]:
    try:
        return dict(json.loads(Path(ledger).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


def _write(ledger: str, entries: dict[str, dict[str, str]]) -> None:
    path = Path(ledger)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash leaves the old file or the new one


def _set_state(change: Change, state: str) -> list[str]:
    entries = _read(change.ledger)
    for ref in change.refs:
        if ref not in entries:
            raise ValueError(f"no reservation {ref} in {change.ledger}")
        entries[ref]["state"] = state
    _write(change.ledger, entries)
    return change.refs


@activity.defn(name="trip_reserve")
async def reserve(hold: Hold) -> str:
    """Hold one item; returns its reference (``FLIGHT-1a2b3c``)."""
    ref = f"{hold.kind.upper()}-{hashlib.sha256(hold.item.encode()).hexdigest()[:6]}"
    entries = _read(hold.ledger)
    entries.setdefault(ref, {"kind": hold.kind, "item": hold.item, "state": "held"})
    _write(hold.ledger, entries)
    return ref


@activity.defn(name="trip_confirm")
async def confirm(change: Change) -> list[str]:
    """Turn held items into bookings; returns their references."""
    return _set_state(change, "booked")


@activity.defn(name="trip_cancel")
async def cancel(change: Change) -> list[str]:
    """Release held items (the saga's compensation); returns their references."""
    return _set_state(change, "cancelled")
