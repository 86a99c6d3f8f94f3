"""The activities skills share (seed API) and their input dataclasses.

* ``write_artifact(WriteArtifactInput)`` writes a file (atomically) and returns its path.
* ``spawn_subagent(SpawnSubagentInput)`` asks a model and returns the parsed
  structured output as a ``dict[str, str]`` (see :mod:`sagaflow.models.structured`);
  the full text and token usage go to the run directory, not to history.
* ``emit_finding(EmitFindingInput)`` appends an inbox entry (idempotent per run and
  status) and sends a best-effort desktop notification.

Every field the seed README omits has a default.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sagaflow.errors import SagaflowError


@dataclass(frozen=True)
class WriteArtifactInput:
    path: str
    content: str


@dataclass(frozen=True)
class SpawnSubagentInput:
    role: str
    tier_name: str
    system_prompt: str
    user_prompt_path: str
    max_tokens: int = 4096
    tools_needed: bool = False
    output_path: str = ""


@dataclass(frozen=True)
class EmitFindingInput:
    inbox_path: str
    run_id: str
    skill: str
    status: str
    summary: str
    timestamp_iso: str = ""
    notify: bool = True


def to_application_error(exc: SagaflowError) -> ApplicationError:
    """Turn a SagaflowError into the failure Temporal records and retries (or not)."""
    from datetime import timedelta

    delay = getattr(exc, "retry_after", None)
    return ApplicationError(
        exc.message,
        type=type(exc).__name__,
        non_retryable=not exc.retryable,
        next_retry_delay=timedelta(seconds=delay) if delay else None,
    )


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)


@activity.defn(name="write_artifact")
async def write_artifact(inp: WriteArtifactInput) -> str:
    """Write ``inp.content`` to ``inp.path``; returns the path."""
    try:
        _atomic_write(Path(inp.path), inp.content)
    except OSError as exc:
        raise ApplicationError(
            f"Cannot write {inp.path}: {exc.strerror}.", type="HomeError", non_retryable=False
        ) from None
    return inp.path


async def _heartbeat_forever(interval: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(interval)


@activity.defn(name="spawn_subagent")
async def spawn_subagent(inp: SpawnSubagentInput) -> dict[str, str]:
    """Ask a model (through the run's transport) and parse its structured output.

    In history the result is an envelope carrying the call's tokens and cost
    next to the output; sagaflow's workflow interceptor records the usage and
    gives the skill the parsed output, so skills see ``dict[str, str]``.
    """
    from sagaflow._engine import model_call as calls

    info = activity.info()
    timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 4.0
    interval = max(0.2, min(1.0, timeout / 4))
    beat = asyncio.create_task(_heartbeat_forever(interval))
    try:
        envelope = await calls.run_model_step(
            inp, info.workflow_id or "", info.activity_id, info.attempt
        )
        return envelope  # an envelope in history; the interceptor unwraps it
    except SagaflowError as exc:
        raise to_application_error(exc) from None
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


@activity.defn(name="emit_finding")
async def emit_finding(inp: EmitFindingInput) -> bool:
    """Append a finding to the inbox; returns False if it was already there."""
    from sagaflow import inbox
    from sagaflow.paths import Home
    from sagaflow.runrecord import read_record

    record = read_record(Home.current(), inp.run_id)
    note = "scripted replies, no model called" if record and record.transport == "scripted" else ""
    entry = inbox.Entry(
        run_id=inp.run_id, status=inp.status, skill=inp.skill, summary=inp.summary,
        timestamp=inp.timestamp_iso, note=note,
    )
    try:
        written = await asyncio.to_thread(inbox.append, Path(inp.inbox_path), entry)
    except SagaflowError as exc:
        raise to_application_error(exc) from None
    if written and inp.notify:
        notify(f"sagaflow: {inp.skill} {inp.status}", inp.summary)
    return written


_pending_notifications: set[asyncio.Task[None]] = set()


def notify(title: str, body: str) -> None:
    """Best-effort desktop notification; never blocks, never raises."""
    if os.environ.get("SAGAFLOW_NO_NOTIFY"):
        return
    if shutil.which("notify-send"):
        argv = ["notify-send", title, body[:200]]
    elif shutil.which("osascript"):
        script = f"display notification {json.dumps(body[:200])} with title {json.dumps(title)}"
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
