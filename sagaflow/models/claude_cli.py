"""The ``claude -p`` transport: Claude Code as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json

from sagaflow import procs
from sagaflow.errors import ModelError
from sagaflow.models import ModelReply
from sagaflow.pricing import USAGE_KEYS


async def call(*, model: str, system: str, user: str, max_tokens: int) -> ModelReply:
    """Run ``claude -p --output-format json`` with the prompt on stdin."""
    found = procs.locate("claude")
    if found.path is None:
        raise ModelError("The claude CLI is not on PATH; install Claude Code.", retryable=False)
    if not found.executable:
        raise ModelError(f"The claude CLI at {found.path} is not executable; run "
                         f"`chmod +x {found.path}` or reinstall Claude Code.", retryable=False)
    try:
        proc = await asyncio.create_subprocess_exec(
            str(found.path), "-p", "--output-format", "json", "--model", model,
            "--system-prompt", system,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:  # executable, yet the kernel would not run it
        raise ModelError(f"The claude CLI at {found.path} could not be started "
                         f"({exc.strerror or exc}); reinstall Claude Code.", retryable=False) from None
    try:
        out, err = await proc.communicate(user.encode("utf-8"))
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    try:
        data = json.loads(out.decode("utf-8") or "{}")
    except ValueError:
        data = {}
    if proc.returncode != 0 or data.get("is_error"):
        detail = str(data.get("result") or err.decode("utf-8", "replace").strip())[:300]
        raise ModelError(
            f"claude -p exited with {proc.returncode}: {detail or 'no output'}; will retry.",
            retryable=True,
        )
    usage = data.get("usage") or {}
    counts = {key: int(usage.get(key) or 0) for key in USAGE_KEYS}
    return ModelReply(text=str(data.get("result", "")), model=model, transport="claude", usage=counts)
