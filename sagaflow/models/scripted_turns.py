"""Scripted model turns for SKILL.md skills: ``replies.yaml`` can script tool calls.

Shape (beside SKILL.md)::

    turns:                         # the N-th model turn answers with the N-th entry
      - text: Looking at the notes.          # optional text block
        tools:                               # optional tool calls (tool_use blocks)
          - Glob: {pattern: "**/*.md"}       # one-key mapping: tool name -> its input
      - repeat: 3                            # this entry answers the next 3 turns
        tools:
          - Bash: {command: "echo $turn >> log.txt"}
      - text: "Done: report.md written."     # no tools: the final answer (end_turn)

In every string ``$turn`` is the turn's number (1-based) and ``$last`` the text of
the first tool result the turn reads (at most 200 characters). Without ``turns:``,
the regex ``replies:`` rules of :mod:`sagaflow.models.scripted` are searched in the
last user text (tool results included), and a rule may add ``tools:`` the same way.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from sagaflow.errors import ModelError
from sagaflow.models import REPLIES_FILE
from sagaflow.models.scripted import bad_regex, read_replies
from sagaflow.models.turns import TurnReply


def _load(skill_dir: Path | None) -> dict[str, Any]:
    path, data = read_replies(skill_dir)
    if not isinstance(data, dict) or not isinstance(data.get("turns", data.get("replies")), list):
        raise ModelError(f"{path} must hold a 'turns:' or 'replies:' list.", retryable=False)
    return data


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = []
        for block in content or []:
            inner = block.get("content", block.get("text", ""))
            texts.append(inner if isinstance(inner, str) else str(inner))
        return "\n".join(texts)
    return ""


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return string.Template(value).safe_substitute(values)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _entry_for(turns: list[Any], turn: int) -> dict[str, Any]:
    seen = 0
    for entry in turns:
        if not isinstance(entry, dict):
            continue
        seen += max(1, int(entry.get("repeat", 1)))
        if turn <= seen:
            return entry
    raise ModelError(
        f"{REPLIES_FILE} scripts {seen} turns under 'turns:', and the loop asked for turn "
        f"{turn}; add an entry (an entry without tools ends the run).", retryable=False,
    )


def _reply(entry: dict[str, Any], turn: int, values: dict[str, str]) -> TurnReply:
    content: list[dict[str, Any]] = []
    text = entry.get("text", entry.get("reply"))
    if text:
        content.append({"type": "text", "text": _fill(str(text), values)})
    for i, call in enumerate(entry.get("tools") or []):
        if not isinstance(call, dict) or len(call) != 1:
            raise ModelError(
                f"{REPLIES_FILE}: each tool call is a one-key mapping (Tool: {{input}}), "
                f"got {call!r}.", retryable=False,
            )
        (name, args), = call.items()
        content.append({"type": "tool_use", "id": f"toolu_s{turn:05d}_{i}", "name": str(name),
                        "input": _fill(dict(args or {}), values)})
    stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return TurnReply(content=content, model="scripted", transport="scripted", usage={},
                     stop_reason=stop)


def call(*, skill_dir: Path | None, messages: list[dict[str, Any]]) -> TurnReply:
    """The scripted answer to the conversation so far.

    Raises:
        ModelError: (not retryable) no replies file, a malformed entry, no entry left.
    """
    data = _load(skill_dir)
    turn = 1 + sum(1 for m in messages if m.get("role") == "assistant")
    last = _last_user_text(messages)
    values = {"turn": str(turn), "last": last[:200]}
    if isinstance(data.get("turns"), list):
        return _reply(_entry_for(data["turns"], turn), turn, values)
    for rule in data["replies"]:
        if not isinstance(rule, dict):
            continue
        pattern = str(rule.get("match", ""))
        try:
            match = re.search(pattern, last)
        except re.error as exc:
            raise bad_regex(pattern, exc) from None
        if match:
            groups = {k: v.strip() for k, v in match.groupdict().items() if v is not None}
            return _reply(rule, turn, {**values, **groups})
    raise ModelError(
        f"No scripted reply in {REPLIES_FILE} matches turn {turn} ({last[:80]!r}); add a rule.",
        retryable=False,
    )
