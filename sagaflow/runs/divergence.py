"""Reading the first divergence out of a Temporal core nondeterminism message.

The core's messages (temporalio 1.35) are prose, e.g. ``[TMPRL1100] Nondeterminism
error: Timer machine does not handle this event: HistoryEvent(id: 5,
ActivityTaskScheduled)``: the code issued a timer where the history holds an
activity. The known shapes are parsed here; anything else leaves the fields empty
(callers still show the message).
"""

from __future__ import annotations

import re

#: the state machines named in the core's nondeterminism messages -> the command they issue
_MACHINES = {
    "Activity": "ScheduleActivityTask", "LocalActivity": "local activity (marker)",
    "Timer": "StartTimer", "ChildWorkflow": "StartChildWorkflowExecution",
    "SignalExternal": "SignalExternalWorkflowExecution",
    "CancelExternal": "RequestCancelExternalWorkflowExecution",
    "UpsertSearchAttributes": "UpsertWorkflowSearchAttributes",
    "ModifyWorkflowProperties": "ModifyWorkflowProperties", "Patch": "patch marker",
    "CompleteWorkflow": "CompleteWorkflowExecution", "FailWorkflow": "FailWorkflowExecution",
    "ContinueAsNew": "ContinueAsNewWorkflowExecution", "CancelWorkflow": "CancelWorkflowExecution",
}
#: the message inside the core's Rust debug dump of a failure
INNER_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
_EVENT = re.compile(r"HistoryEvent\(id: (\d+), (\w+)")
_MACHINE = re.compile(r"(\w+) machine does not handle this event")
_NO_COMMAND = re.compile(r"No command scheduled for event")
_TYPE_MISMATCH = re.compile(r"(\w+) type of scheduled event '([^']*)' does not match "
                            r"\w+ type of \w+ command '([^']*)'")


def divergence(message: str) -> tuple[int | None, str | None, str | None]:
    """``(event id, expected, found)`` read from a core nondeterminism message.

    The core's messages (temporalio 1.35) are prose; the known shapes are parsed
    here and anything else leaves the fields empty (the message is still shown).
    """
    event = _EVENT.search(message)
    event_id = int(event.group(1)) if event else None
    expected = event.group(2) if event else None
    mismatch = _TYPE_MISMATCH.search(message)
    if mismatch:
        kind, old, new = mismatch.groups()
        return event_id, f"{kind.lower()} {old!r}", f"{kind.lower()} {new!r}"
    machine = _MACHINE.search(message)
    if machine:
        return event_id, expected, _MACHINES.get(machine.group(1), machine.group(1))
    if _NO_COMMAND.search(message):
        return event_id, expected, None
    return event_id, expected, None


