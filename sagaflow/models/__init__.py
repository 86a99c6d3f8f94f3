"""Model transports: the only place that talks to a model.

Three transports answer a (system, user) prompt pair:

* ``anthropic`` — the Anthropic SDK, streaming, ``max_retries=0`` (Temporal retries);
* ``claude`` — the ``claude -p`` CLI as a subprocess;
* ``scripted`` — a skill's ``replies.yaml`` (regex → reply), no model at all.

This package's ``__init__`` is light: the SDK is imported only on first use.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from sagaflow.config import TRANSPORTS, Settings
from sagaflow.errors import TransportError

REPLIES_FILE = "replies.yaml"
#: stop reason of a reply whose stream ended without ``message_stop`` (cut off in transit)
INCOMPLETE = "incomplete"
KEY_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


@dataclass
class ModelReply:
    """A model's answer and what it cost.

    Attributes:
        text: The reply's text blocks, joined.
        model: The model id the provider reported.
        transport: ``anthropic``, ``claude`` or ``scripted``.
        usage: Token counts keyed by :data:`sagaflow.pricing.USAGE_KEYS`.
        stop_reason: Why the model stopped, as the Messages API says (``end_turn``,
            ``max_tokens``, ``stop_sequence``, ``refusal``...), :data:`INCOMPLETE`
            when the stream was cut, "" when the transport does not say.
    """

    text: str
    model: str
    transport: str
    usage: dict[str, int] = field(default_factory=dict)
    stop_reason: str = ""


def has_api_key() -> bool:
    return any(os.environ.get(v) for v in KEY_VARS)


def choose_transport(settings: Settings, requested: str | None = None) -> str:
    """Pick the transport: the requested one, the configured one, or auto.

    Raises:
        TransportError: when auto finds no key and no ``claude`` CLI.
    """
    name = (requested or settings.transport or "auto").lower()
    if name not in TRANSPORTS:
        raise TransportError(f"Unknown transport {name!r}; use one of {', '.join(TRANSPORTS)}.")
    if name != "auto":
        return name
    if has_api_key():
        return "anthropic"
    if _on_path("claude"):
        return "claude"
    raise TransportError(
        "No model transport is configured: set ANTHROPIC_API_KEY, install the claude CLI, "
        "or pass --transport scripted to use the skill's scripted replies."
    )


def _on_path(program: str) -> bool:
    import shutil  # here, not at import: shutil pulls in bz2, lzma, zlib (launch path)

    return shutil.which(program) is not None


def preflight(transport: str, skill_dir: Path | None) -> None:
    """Check, without a billable call, that ``transport`` can work."""
    if transport == "anthropic" and not has_api_key():
        raise TransportError(
            "The anthropic transport needs ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN); "
            "export it, or pass --transport scripted."
        )
    if transport == "claude" and not _on_path("claude"):
        raise TransportError(
            "The claude transport needs the claude CLI on PATH; install Claude Code "
            "or set ANTHROPIC_API_KEY and use --transport anthropic."
        )
    if transport == "scripted" and (skill_dir is None or not (skill_dir / REPLIES_FILE).is_file()):
        where = skill_dir or "the skill directory"
        raise TransportError(
            f"The scripted transport needs {where}/{REPLIES_FILE}; this skill ships none, "
            "so use a real model (set ANTHROPIC_API_KEY)."
        )


async def _import_off_loop(name: str) -> None:
    """Import a transport module in a thread, so the event loop keeps running.

    The anthropic SDK takes over a second to import (several on a busy host);
    done on the loop it would stall the heartbeats of the very call that needs
    it, and a short heartbeat timeout would fail that attempt. Always a thread,
    even when the module is already in ``sys.modules``: the worker's warm-up may
    be importing it right now, and waiting for that import's lock on the loop
    would block it just the same.
    """
    await asyncio.to_thread(importlib.import_module, name)  # a dict lookup once imported


async def complete(
    transport: str,
    *,
    model: str,
    system: str,
    user: str,
    max_tokens: int,
    skill_dir: Path | None = None,
) -> ModelReply:
    """Ask ``transport`` for one reply."""
    if transport == "anthropic":
        await _import_off_loop("sagaflow.models.anthropic_api")
        from sagaflow.models import anthropic_api

        return await anthropic_api.call(model=model, system=system, user=user, max_tokens=max_tokens)
    if transport == "claude":
        from sagaflow.models import claude_cli

        return await claude_cli.call(model=model, system=system, user=user, max_tokens=max_tokens)
    if transport == "scripted":
        from sagaflow.models import scripted

        return scripted.call(skill_dir=skill_dir, model=model, system=system, user=user)
    raise TransportError(f"Unknown transport {transport!r}; use one of {', '.join(TRANSPORTS)}.")
