"""Bash {command, timeout?, description?}: one shell command in the workspace.

The command runs with ``bash -c`` (``sh`` where there is no bash) in the workspace, stdin
closed, stdout and stderr interleaved, in its own session and process group, so that on
timeout, on cancellation and when the command leaves background processes behind, the
whole group is stopped (SIGTERM, then SIGKILL after :data:`KILL_GRACE_SECONDS`) by its
process-group id — never by name. ``timeout`` is in milliseconds (default 120,000, at most
600,000). The output is capped at :data:`MAX_OUTPUT_CHARS` (start and end kept); a non-zero
exit status is returned to the model with the output, as a tool error.

Bash is not confined to the workspace (it is a shell): permission rules decide which
commands run, and by default every command asks a human first. The model's API keys are
removed from the command's environment (:data:`HIDDEN_ENV`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal

from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused, cap

DEFAULT_TIMEOUT_MS = 120_000
MAX_TIMEOUT_MS = 600_000
MAX_OUTPUT_CHARS = 30_000
#: bytes kept from the start and from the end of a long output while reading it
KEEP_BYTES = 64 * 1024
KILL_GRACE_SECONDS = 2.0
#: how long the command's output may stay open after the shell itself exited
LINGER_SECONDS = 0.5
HIDDEN_ENV = frozenset({"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "TEMPORAL_API_KEY"})

SCHEMA = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "minLength": 1, "description": "The command to execute"},
        "timeout": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_MS,
                    "description": "Optional timeout in milliseconds (max 600000)"},
        "description": {"type": "string",
                        "description": "What the command does, in 5-10 words"},
        "run_in_background": {"type": "boolean",
                              "description": "Not supported by sagaflow: must be false"},
    },
    "required": ["command"],
    "additionalProperties": False,
}


def shell() -> str:
    """The shell: bash when there is one, else /bin/sh."""
    return shutil.which("bash") or "/bin/sh"


class _Output:
    """The first and last :data:`KEEP_BYTES` of a stream, and how much was dropped."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = KEEP_BYTES - len(self.head)
        self.head += chunk[:room]
        self.tail += chunk[room:] if room > 0 else chunk
        if len(self.tail) > KEEP_BYTES:
            self.dropped += len(self.tail) - KEEP_BYTES
            del self.tail[: len(self.tail) - KEEP_BYTES]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        middle = f"\n... [{self.dropped} bytes cut] ...\n" if self.dropped else ""
        return cap(head + middle + tail, MAX_OUTPUT_CHARS).rstrip("\n")


async def _drain(stream: asyncio.StreamReader, output: _Output) -> None:
    while chunk := await stream.read(65536):
        output.add(chunk)


async def exited(proc: asyncio.subprocess.Process) -> int:
    """The shell's exit status, as soon as it exits.

    Polls ``returncode`` (1 ms, doubling to 50 ms) instead of awaiting ``proc.wait()``: on
    Python 3.11 ``wait()`` also waits until every process holding the output pipe is gone,
    so a command that leaves ``sleep 600 &`` behind would look like it never ended.
    """
    delay = 0.001
    while proc.returncode is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    return proc.returncode


def _signal_group(pgid: int, sig: int) -> None:
    # The group id is the shell's pid (start_new_session). The group outlives its leader
    # only while members remain, so a signal here reaches the command's processes or none.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def stop_group(proc: asyncio.subprocess.Process, reader: asyncio.Future[None]) -> None:
    """SIGTERM the command's process group, SIGKILL it after the grace period, and stop
    reading (a process that left the group could hold the output open forever)."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(exited(proc), reader)),
                               KILL_GRACE_SECONDS)
    _signal_group(proc.pid, signal.SIGKILL)
    await exited(proc)
    try:
        await asyncio.wait_for(asyncio.shield(reader), LINGER_SECONDS)
    except TimeoutError:
        reader.cancel()


async def run(call: ToolCall) -> str:
    """Run the command; returns its output, raises :class:`ToolRefused` (with the output)
    for a non-zero exit or a timeout."""
    if call.input.get("run_in_background"):
        raise ToolRefused("Bash: run_in_background is not supported by sagaflow; run the command "
                          "in the foreground (with a timeout of up to 600000 ms).")
    command = str(call.input["command"])
    timeout = int(call.input.get("timeout") or DEFAULT_TIMEOUT_MS) / 1000
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}
    proc = await asyncio.create_subprocess_exec(
        shell(), "-c", command, cwd=call.workspace, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    assert proc.stdout is not None
    output = _Output()
    reader = asyncio.ensure_future(_drain(proc.stdout, output))
    notes = []
    try:
        try:
            await asyncio.wait_for(exited(proc), timeout)
        except TimeoutError:
            await stop_group(proc, reader)
            raise ToolRefused(
                f"{output.text()}\nBash: the command timed out after {timeout:g} s and was "
                "stopped; give a larger timeout (at most 600000 ms) or a quicker command."
            ) from None
        try:
            await asyncio.wait_for(asyncio.shield(reader), LINGER_SECONDS)
        except TimeoutError:  # background processes still hold the output open
            await stop_group(proc, reader)
            notes.append("(Processes the command left running in the background were stopped.)")
    except asyncio.CancelledError:  # the activity was cancelled: leave nothing running
        await stop_group(proc, reader)
        raise
    text = "\n".join([output.text() or "(no output)", *notes])
    if proc.returncode:
        raise ToolRefused(f"{text}\n[exit code {proc.returncode}]")
    return text


TOOL = Tool(
    name="Bash",
    description=(
        "Runs a shell command in the workspace (bash -c) and returns its output and exit "
        "code. timeout in milliseconds (default 120000, max 600000). Prefer Read, Glob, Grep, "
        "Edit and Write for files."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="command",
)
