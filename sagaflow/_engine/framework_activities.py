"""Inbox bookkeeping the framework does inside every workflow (local activities).

* ``sagaflow_finalize_run`` — the run's DONE / FAILED / CANCELLED entry, keyed by
  the Temporal run (so a retried run can report again);
* ``sagaflow_gate_inbox`` — a NEEDS APPROVAL entry when a gate opens, with the
  exact commands that answer it, and marking it read once it is decided.

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
from sagaflow.safetext import strip_controls
from sagaflow.wiretypes import wire

FINALIZE_ACTIVITY = "sagaflow_finalize_run"
NEEDS_APPROVAL = "NEEDS APPROVAL"
#: statuses the framework writes; any other entry for the run means the skill reported
FRAMEWORK_STATUSES = frozenset({"FAILED", "CANCELLED", "NEEDS_APPROVAL"})

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


async def finalize_run(path: Path, inp: FinalizeInput, notify: Notify) -> bool:
    """Write the framework's DONE/FAILED/CANCELLED entry unless the skill reported.

    Returns:
        False when the entry was already there (or the skill reported DONE itself).
    """
    if inp.status == "DONE":
        entries, _ = await asyncio.to_thread(inbox.read, path)
        if any(e.run_id == inp.run_id and e.status not in FRAMEWORK_STATUSES for e in entries):
            return False
    entry = inbox.Entry(
        run_id=inp.run_id, status=inp.status, skill=inp.skill,
        summary=inp.summary, timestamp=inp.timestamp_iso,
        key=inp.attempt_key if inp.status != "DONE" else "",
    )
    written = await asyncio.to_thread(inbox.append, path, entry)
    if written:
        notify(f"sagaflow: {inp.skill} {inp.status}", inp.summary)
    return written


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


async def gate_inbox(path: Path, inp: GateInboxInput, notify: Notify) -> bool:
    """Open (append) or retire (mark read) the NEEDS APPROVAL entry of a gate."""
    if not inp.opened:
        return await asyncio.to_thread(inbox.retire, path, inp.run_id, NEEDS_APPROVAL, inp.key)
    entry = inbox.Entry(
        run_id=inp.run_id, status=NEEDS_APPROVAL, skill=inp.skill,
        summary=_answer_text(inp), timestamp=inp.timestamp_iso, key=inp.key,
        note=f"waiting on {'its budget' if inp.kind == BUDGET else 'step ' + inp.step}",
    )
    written = await asyncio.to_thread(inbox.append, path, entry)
    if written:
        notify(f"sagaflow: {inp.skill} needs approval", inp.prompt)
    return written
