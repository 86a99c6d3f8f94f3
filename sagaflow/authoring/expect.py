"""What an offline test run did (:class:`Observed`), and how it differs from a case's
expectations (:func:`differences`). Pure: no Temporal here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from sagaflow.authoring.cases import Expect
from sagaflow.inbox_format import Entry

#: characters of a value shown in a difference
SHOWN = 80


@dataclass
class Observed:
    """One offline run, as a case sees it.

    Attributes:
        run_id: The run's id (its Temporal workflow id).
        status: The status of the run's last inbox entry that does not ask for an
            action (``DONE``, ``FAILED``, ``CANCELLED``, or what the skill emitted);
            without one, Temporal's status (``COMPLETED``...), or ``RUNNING`` when the
            case's time ran out first.
        result: The run's result as JSON data (None when it failed).
        error: The failure reason of a run that did not complete ("" otherwise).
        inbox: That inbox entry, or None.
        steps: The activity names the run scheduled, in order (continue-as-new
            runs followed; child runs not included).
        model_calls: Model replies given (model steps and agent turns, every run of
            the case, children included).
        waiting_on: What the run waited on when the case stopped it ("" otherwise).
        seconds: Wall time of the run, start to result.
        notes: Answers the run never asked for (it ended first); each fails a case.
    """

    run_id: str
    status: str
    result: Any = None
    error: str = ""
    inbox: Entry | None = None
    steps: list[str] = field(default_factory=list)
    model_calls: int = 0
    waiting_on: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inbox"] = self.inbox.to_dict() if self.inbox else None
        return data


def plain(value: Any) -> Any:
    """``value`` as JSON data: dataclasses and pydantic models become mappings."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json")
    elif is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return json.loads(json.dumps(value, default=str))


def as_text(value: Any) -> str:
    """A result as text: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _show(value: Any, *, cut: bool = True) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN or not cut else text[: SHOWN - 1] + "…"


def _window(text: str, at: int) -> str:
    """``text`` around character ``at``, at most :data:`SHOWN` characters, ``…`` where cut."""
    start = max(0, at - SHOWN // 2)
    piece = text[start:start + SHOWN]
    return ("…" if start else "") + piece + ("…" if start + SHOWN < len(text) else "")


def mismatch(where: str, expected: Any, got: Any) -> str:
    """How ``got`` differs from ``expected``, pointing at the first difference: the key
    path inside mappings and lists (``result.items[2].name``), the character where two
    long texts part. Values are shown cut to :data:`SHOWN` characters around that point,
    so a difference past the first 80 characters is never hidden. Values short enough to
    show whole are shown whole."""
    if all(not _show(v).endswith("…") for v in (expected, got)):
        return f"{where}: expected {_show(expected)}, got {_show(got)}"
    if isinstance(expected, dict) and isinstance(got, dict):
        missing = [k for k in expected if k not in got]
        if missing:
            return f"{where}: expected key {missing[0]!r}, missing (got keys {_show(sorted(got))})"
        extra = [k for k in got if k not in expected]
        for key in expected:
            if expected[key] != got[key]:
                return mismatch(f"{where}.{key}", expected[key], got[key])
        return f"{where}: unexpected key {extra[0]!r} ({_show(got[extra[0]])})"
    if isinstance(expected, list) and isinstance(got, list):
        for i, (want, seen) in enumerate(zip(expected, got, strict=False)):
            if want != seen:
                return mismatch(f"{where}[{i}]", want, seen)
        return f"{where}: expected {len(expected)} items, got {len(got)}"
    if isinstance(expected, str) and isinstance(got, str):
        at = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
                  min(len(expected), len(got)))
        if at == min(len(expected), len(got)):
            longer = expected if len(expected) > len(got) else got
            return (f"{where}: expected {len(expected)} characters, got {len(got)}, the same "
                    f"up to character {at}; then {_show(_window(longer, at), cut=False)}")
        return (f"{where}: differs at character {at + 1}: expected "
                f"{_show(_window(expected, at), cut=False)}, got {_show(_window(got, at), cut=False)}")
    return f"{where}: expected {_show(expected)}, got {_show(got)}"


def _subsequence(wanted: list[str], seen: list[str]) -> str | None:
    """The first wanted step missing from ``seen`` in order, or None when all are there."""
    rest = iter(seen)
    for step in wanted:
        if not any(s == step for s in rest):
            return step
    return None


def differences(expect: Expect, seen: Observed) -> list[str]:
    """Each way ``seen`` breaks ``expect``, one short phrase each (empty: it passes)."""
    found: list[str] = list(seen.notes)
    why = f" ({seen.error})" if seen.error else ""
    if expect.status is not None and expect.status.upper() != seen.status.upper():
        found.append(f"status: expected {expect.status}, got {seen.status}{why}")
    if expect.has_result and plain(expect.result) != seen.result:
        found.append(mismatch("result", plain(expect.result), seen.result))
    if expect.result_contains is not None and expect.result_contains not in as_text(seen.result):
        found.append(f"result: expected it to contain {_show(expect.result_contains)}, "
                     f"got {_show(seen.result)}")
    if expect.error_contains is not None and expect.error_contains not in seen.error:
        got = _show(seen.error) if seen.error else "no error"
        found.append(f"error: expected it to contain {_show(expect.error_contains)}, got {got}")
    found += _inbox(expect.inbox, seen.inbox)
    if expect.steps is not None:
        missing = _subsequence(expect.steps, seen.steps)
        if missing is not None:
            got = (f"{missing} is missing from {', '.join(seen.steps)}" if seen.steps
                   else "the run scheduled no step")
            found.append(f"steps: expected {', '.join(expect.steps)} in this order; {got}")
    if expect.model_calls is not None and expect.model_calls != seen.model_calls:
        found.append(f"model_calls: expected {expect.model_calls}, got {seen.model_calls}")
    return found


def _inbox(wanted: dict[str, str], entry: Entry | None) -> list[str]:
    if not wanted:
        return []
    if entry is None:
        return ["inbox: expected an entry, the run wrote none"]
    found = []
    if "status" in wanted and wanted["status"].upper() != entry.status.upper():
        found.append(f"inbox.status: expected {wanted['status']}, got {entry.status}")
    if "summary" in wanted and wanted["summary"] != entry.summary:
        found.append(mismatch("inbox.summary", wanted["summary"], entry.summary))
    if "summary_contains" in wanted and wanted["summary_contains"] not in entry.summary:
        found.append(f"inbox.summary: expected it to contain {_show(wanted['summary_contains'])}, "
                     f"got {_show(entry.summary)}")
    return found
