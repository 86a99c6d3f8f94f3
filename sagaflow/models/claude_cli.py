"""The ``claude -p`` transport: Claude Code as a subprocess.

``claude -p --output-format json`` prints one of these shapes (Claude Code 2.x):

* a JSON object ``{"type": "result", "subtype": "success"|"error_...", "is_error": bool,
  "result": str, "usage": {...}, "stop_reason"?: str, ...}``;
* a JSON array of events (``system``/``assistant``/``user``/``result``), the result
  being the last item whose ``type`` is ``"result"`` (shape as above; an
  ``assistant`` event's ``message.stop_reason`` is the stop reason when the result
  carries none);
* plain text (older versions, or a message printed before any JSON, such as a
  login prompt).

Hand-parsed because Claude Code publishes no parser for its output; each shape
is recorded in tests/unit/test_claude_output.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from sagaflow import procs
from sagaflow.errors import ModelError
from sagaflow.models import ModelReply
from sagaflow.pricing import USAGE_KEYS

#: text that means "not logged in / bad credentials": retrying cannot help
_AUTH_SIGNS = (
    "invalid api key", "please run /login", "not logged in", "authentication_error",
    "invalid x-api-key", "oauth token has expired", "credit balance is too low",
)
AUTH_FIX = ("log Claude Code in ('claude' then /login) or set ANTHROPIC_API_KEY for it, "
            "then retry the run")


@dataclass(frozen=True)
class CliOutput:
    """What one ``claude -p`` run printed, whatever its shape.

    Attributes:
        text: The result text ("" when there is none).
        is_error: Claude Code flagged the run as failed (``is_error`` or an error subtype).
        usage: Token counts keyed by :data:`~sagaflow.pricing.USAGE_KEYS`.
        stop_reason: The model's stop reason when printed, else "".
        parsed: The output was JSON of a known shape (False: plain text or nothing).
        subtype: The result's ``subtype`` (``success``, ``error_max_turns``...; "" if none).
        api_status: The ``api_error_status`` Claude Code printed for a failed API call
            (0 when none).
    """

    text: str
    is_error: bool = False
    usage: dict[str, int] | None = None
    stop_reason: str = ""
    parsed: bool = False
    subtype: str = ""
    api_status: int = 0


def _stop_of(events: list[Any]) -> str:
    for event in reversed(events):
        message = event.get("message") if isinstance(event, dict) else None
        if isinstance(message, dict) and message.get("stop_reason"):
            return str(message["stop_reason"])
    return ""


def parse_output(raw: str) -> CliOutput:
    """Parse ``claude -p --output-format json`` stdout (any shape above)."""
    stripped = raw.strip()
    if not stripped:
        return CliOutput(text="")
    try:
        data: Any = json.loads(stripped)
    except ValueError:
        return CliOutput(text=stripped)
    events = data if isinstance(data, list) else [data]
    result = next((e for e in reversed(events)
                   if isinstance(e, dict) and e.get("type", "result") == "result"
                   and ("result" in e or "is_error" in e or "subtype" in e)), None)
    if result is None:
        return CliOutput(text=stripped if not isinstance(data, list | dict) else "")
    raw_usage = result.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    subtype = str(result.get("subtype") or "")
    return CliOutput(
        text=str(result.get("result") or ""),
        is_error=bool(result.get("is_error")) or subtype.startswith("error"),
        usage={key: int(usage.get(key) or 0) for key in USAGE_KEYS},
        stop_reason=str(result.get("stop_reason") or "") or _stop_of(events),
        parsed=True,
        subtype=subtype,
        api_status=int(status) if isinstance(status := result.get("api_error_status"), int) else 0,
    )


def check_output(out: CliOutput, returncode: int, stderr: str) -> None:
    """Raise the right ModelError for a failed, empty or unparseable run.

    Raises:
        ModelError: not retryable for an authentication problem (with the fix),
            retryable for other failures, empty or unparseable output.
    """
    detail = (out.text or stderr or "").strip().replace("\n", " ")[:300]
    if any(sign in f"{out.text}\n{stderr}".lower() for sign in _AUTH_SIGNS):
        raise ModelError(f"claude -p cannot use the model ({detail}); {AUTH_FIX}.",
                         retryable=False)
    if out.subtype == "error_max_turns":  # the same session would stop at the same limit
        raise ModelError(
            "claude -p stopped at its turn limit (error_max_turns) before a result; raise the "
            "skill's --max-turns or ask for less in one run (not retrying).", retryable=False,
        )
    if returncode != 0 or out.is_error:
        api = _api_fault(out, stderr)
        if api is not None:
            raise api
        raise ModelError(
            f"claude -p exited with {returncode}: {detail or 'no output'}; will retry.",
            retryable=True,
        )
    if not out.parsed:
        what = f"plain text instead of JSON ({detail[:120]!r})" if detail else "no output"
        raise ModelError(
            f"claude -p printed {what}; will retry. Update Claude Code if this persists.",
            retryable=True,
        )


def _api_fault(out: CliOutput, stderr: str) -> ModelError | None:
    """The Messages API fault Claude Code reports (``API Error: 529 {...}`` or
    ``api_error_status``), classified by its error type as the anthropic transport
    does (:data:`~sagaflow.models.anthropic_api.ERROR_KINDS`), else None."""
    from sagaflow.models.anthropic_api import ERROR_KINDS, error_kind

    text = f"{out.text}\n{stderr}"
    kind = next((k for k in ERROR_KINDS if k in text), None)
    if kind is None and out.api_status:
        kind = error_kind(out.api_status, None)[0]
    if kind is None:
        return None
    retryable, advice = ERROR_KINDS[kind]
    detail = (out.text or stderr).strip().replace("\n", " ")[:200]
    return ModelError(f"claude -p's model call failed ({kind}: {detail}); {advice}.",
                      retryable=retryable, status=out.api_status or None)


async def call(*, model: str, system: str, user: str, max_tokens: int) -> ModelReply:
    """Run ``claude -p --output-format json`` with the prompt on stdin.

    Raises:
        ModelError: see :func:`check_output`; the CLI not found, not executable or not
            startable (not retryable).
    """
    return await _run(["--model", model, "--system-prompt", system], user, model, None)


async def call_agent(
    *, model: str, system: str, user: str, cwd: str, allowed_tools: list[str], max_turns: int,
) -> ModelReply:
    """Run a whole SKILL.md skill as one ``claude -p`` session with Claude Code's own tools.

    The skill's prompt is appended to Claude Code's system prompt; ``allowed_tools`` (Claude
    Code's rule syntax) are pre-approved, anything else is refused in ``-p`` mode; the
    session works in ``cwd``. One checkpoint: a crash reruns the whole session.

    Raises:
        ModelError: as :func:`call`.
    """
    argv = ["--model", model, "--append-system-prompt", system, "--max-turns", str(max_turns)]
    if allowed_tools:
        argv += ["--allowedTools", ",".join(allowed_tools)]
    return await _run(argv, user, model, cwd)


async def _run(argv: list[str], user: str, model: str, cwd: str | None) -> ModelReply:
    found = procs.locate("claude")
    if found.path is None:
        raise ModelError("The claude CLI is not on PATH; install Claude Code.", retryable=False)
    if not found.executable:
        raise ModelError(f"The claude CLI at {found.path} is not executable; run "
                         f"`chmod +x {found.path}` or reinstall Claude Code.", retryable=False)
    try:
        proc = await asyncio.create_subprocess_exec(
            str(found.path), "-p", "--output-format", "json", *argv,
            cwd=cwd,
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
    parsed = parse_output(out.decode("utf-8", "replace"))
    check_output(parsed, proc.returncode or 0, err.decode("utf-8", "replace"))
    return ModelReply(text=parsed.text, model=model, transport="claude",
                      usage=parsed.usage or {}, stop_reason=parsed.stop_reason)
