"""Inbox bookkeeping the framework does inside every workflow (local activities).

* ``sagaflow_finalize_run`` — the run's DONE / FAILED / CANCELLED entry, keyed by
  the Temporal execution (so every execution of a run id reports: ``retry``,
  ``--if-exists replace``), and retiring every entry of the run that asked for an
  action (the run waits on nothing any more, whatever ended it);
* ``sagaflow_gate_inbox`` — a NEEDS APPROVAL entry when a gate opens, with the
  exact commands that answer it, and marking it read once it is decided. Opening
  one retires what earlier executions of the run left waiting (one run id has one
  open execution at most).

Both take the execution from the activity's own info (``workflow_run_id``), so
the workflow's commands do not change.

The activities themselves are bound methods of
:class:`~sagaflow._engine.activities.SagaflowActivities`; the functions here do
the work with the inbox path and notifier they are given. The notifiers
(desktop, or quiet under ``SAGAFLOW_NO_NOTIFY``) live here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sagaflow import inbox
from sagaflow._engine.control_types import BUDGET, GateInboxInput
from sagaflow.inbox_format import execution_of, execution_tail, token
from sagaflow.safetext import strip_controls
from sagaflow.wiretypes import wire

FINALIZE_ACTIVITY = "sagaflow_finalize_run"
NEEDS_APPROVAL = "NEEDS APPROVAL"
#: statuses the framework (or the CLI) writes; any other entry of an execution means the
#: skill reported itself
FRAMEWORK_STATUSES = frozenset({"FAILED", "CANCELLED", "NEEDS_APPROVAL", "TERMINATED"})

#: ``notify(title, body)``: a best-effort desktop notification
Notify = Callable[[str, str], None]

_pending_notifications: set[asyncio.Task[None]] = set()


def desktop_notify(title: str, body: str) -> None:
    """Best-effort desktop notification; never blocks, never raises.

    ``body`` is often model text: escape sequences and control characters are removed.
    """
    title, body = strip_controls(title)[:200], strip_controls(body[:800])
    if shutil.which("notify-send"):
        argv = ["notify-send", "--", title, body[:200]]  # "--": text starting with "-" is no option
    elif shutil.which("osascript"):
        # no control characters are left, so JSON's only escapes (\" and \\) are AppleScript's too
        quote = functools.partial(json.dumps, ensure_ascii=False)
        script = f"display notification {quote(body[:200])} with title {quote(title)}"
        argv = ["osascript", "-e", script]
    else:
        return

    async def _run() -> None:
        with contextlib.suppress(Exception):
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            try:
                await asyncio.wait_for(proc.wait(), timeout=5)
            except TimeoutError:
                proc.kill()

    task = asyncio.get_running_loop().create_task(_run())
    _pending_notifications.add(task)
    task.add_done_callback(_pending_notifications.discard)


def _quiet(_title: str, _body: str) -> None:
    return None


def default_notifier() -> Notify:
    """Desktop notifications, unless ``SAGAFLOW_NO_NOTIFY`` is set (read once, at build)."""
    return _quiet if os.environ.get("SAGAFLOW_NO_NOTIFY") else desktop_notify


@wire
@dataclass(frozen=True)
class FinalizeInput:
    run_id: str
    skill: str
    status: str
    summary: str
    timestamp_iso: str
    attempt_key: str = ""


def _reported(path: Path, run_id: str, execution: str) -> bool:
    """Whether the skill wrote an entry of its own in this execution."""
    if not inbox.has_entry(path, run_id):  # the common case, found by a byte search: the
        return False  # whole inbox (thousands of entries, in time) is parsed only when needed
    entries, _ = inbox.read(path)
    tail = execution_tail(execution)
    return any(
        e.run_id == token(run_id) and e.status not in FRAMEWORK_STATUSES
        and (not execution or execution_of(e.key) == tail)
        for e in entries
    )


async def finalize_run(path: Path, inp: FinalizeInput, notify: Notify, execution: str = "") -> bool:
    """Write the framework's DONE/FAILED/CANCELLED entry unless the skill reported,
    and retire the run's entries that asked for an action.

    Args:
        execution: The Temporal run id reporting (empty: ``inp.attempt_key`` keys it).

    Returns:
        False when the entry was already there (or the skill reported DONE itself).
    """
    written = await asyncio.to_thread(_finalize, path, inp, execution)  # one thread hop
    if written:
        notify(f"sagaflow: {inp.skill} {inp.status}", inp.summary)
    return written


def _finalize(path: Path, inp: FinalizeInput, execution: str) -> bool:
    """:func:`finalize_run`'s file work, in one thread (it runs in every run's last task)."""
    inbox.retire_waiting(path, inp.run_id)
    if inp.status == "DONE" and _reported(path, inp.run_id, execution):
        return False
    entry = inbox.Entry(
        run_id=inp.run_id, status=inp.status, skill=inp.skill,
        summary=inp.summary, timestamp=inp.timestamp_iso,
        key="" if execution else inp.attempt_key,
    )
    return inbox.append(path, entry, execution=execution)


def _answer_text(inp: GateInboxInput) -> str:
    run, step = inp.run_id, inp.step
    lines = [inp.prompt, ""]
    if inp.kind == BUDGET:
        lines.append(f"continue: sagaflow approve {run} --extend-budget 1.00")
        lines.append(f"stop:     sagaflow reject {run} --reason \"...\"")
    else:
        lines.append(f"approve: sagaflow approve {run} --step {step} --comment \"...\"")
        lines.append(f"reject:  sagaflow reject {run} --step {step} --reason \"...\"")
    if inp.timeout_at:
        lines.append(f"without an answer by {inp.timeout_at} it will {inp.default}")
    return "\n".join(lines)


async def gate_inbox(path: Path, inp: GateInboxInput, notify: Notify, execution: str = "") -> bool:
    """Open (append) or retire (mark read) the NEEDS APPROVAL entry of a gate.

    Args:
        execution: The Temporal run id of the gate's execution (ties the entry to it).
    """
    if not inp.opened:
        return await asyncio.to_thread(
            functools.partial(inbox.retire, execution=execution),
            path, inp.run_id, NEEDS_APPROVAL, inp.key,
        )
    if execution:  # what an earlier execution of this run id left waiting waits no more
        await asyncio.to_thread(
            functools.partial(inbox.retire_waiting, keep_execution=execution), path, inp.run_id
        )
    entry = inbox.Entry(
        run_id=inp.run_id, status=NEEDS_APPROVAL, skill=inp.skill,
        summary=_answer_text(inp), timestamp=inp.timestamp_iso, key=inp.key,
        note=f"waiting on {'its budget' if inp.kind == BUDGET else 'step ' + inp.step}",
    )
    written = await asyncio.to_thread(
        functools.partial(inbox.append, execution=execution), path, entry
    )
    if written:
        notify(f"sagaflow: {inp.skill} needs approval", inp.prompt)
    return written
