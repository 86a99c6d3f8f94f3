"""Model turns with tool use: a whole conversation in, one assistant message out.

:func:`converse` is what the agent loop's turn activity calls. Transports:

* ``anthropic`` — the Messages API with ``tools`` (streaming, the same fault
  classification as :mod:`sagaflow.models.anthropic_api`);
* ``scripted`` — the skill's ``replies.yaml`` ``turns:`` list (or its regex ``replies:``),
  whose entries may be tool calls; see :mod:`sagaflow.models.scripted_turns`.

The ``claude`` transport runs a whole SKILL.md skill as one step instead (Claude Code
with its own tools; see :mod:`sagaflow.models.claude_cli`), so it has no turns here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.errors import TransportError


@dataclass
class TurnReply:
    """One assistant message.

    Attributes:
        content: Its blocks as the Messages API shapes them (``{"type": "text",
            "text"}``, ``{"type": "tool_use", "id", "name", "input"}``).
        model: The model id the provider reported.
        transport: ``anthropic`` or ``scripted``.
        usage: Token counts keyed by :data:`sagaflow.pricing.USAGE_KEYS`.
        stop_reason: ``end_turn``, ``tool_use``, ``max_tokens``, ``refusal``... or
            :data:`sagaflow.models.INCOMPLETE` for a cut stream.
    """

    content: list[dict[str, Any]]
    model: str
    transport: str
    usage: dict[str, int] = field(default_factory=dict)
    stop_reason: str = ""

    @property
    def text(self) -> str:
        return "".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.content if b.get("type") == "tool_use"]


async def converse(
    transport: str,
    *,
    model: str,
    system: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    max_tokens: int,
    skill_dir: Path | None = None,
) -> TurnReply:
    """Ask ``transport`` for the next assistant message of ``messages``.

    Raises:
        ModelError: the call failed (``retryable`` says whether Temporal should retry).
        TransportError: a transport with no turn-by-turn mode.
    """
    if transport == "anthropic":
        from sagaflow.models import _import_off_loop

        await _import_off_loop("sagaflow.models.anthropic_api")
        from sagaflow.models import anthropic_api

        reply: TurnReply = await anthropic_api.call_turn(
            model=model, system=system, messages=messages, tools=tools, max_tokens=max_tokens
        )
        return reply
    if transport == "scripted":
        from sagaflow.models import scripted_turns

        return scripted_turns.call(skill_dir=skill_dir, messages=messages)
    raise TransportError(
        f"The {transport} transport has no turn-by-turn mode for SKILL.md skills; "
        "use --transport anthropic or scripted."
    )
