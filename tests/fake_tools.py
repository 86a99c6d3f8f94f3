"""Tool use for the fake Messages API (tests/fake_anthropic.py).

* :class:`TurnScript`: scripted assistant turns that may call tools, chosen by the
  request's turn number (1 + the assistant messages it carries), so a retried request
  gets the same answer. Entry shape as sagaflow's scripted transport: ``{"text": ...,
  "tools": [{"Name": {input}}], "repeat": N}``; ``$turn`` and ``$last`` (the first
  tool result's text) are filled in strings.
* :func:`tool_result_problem`: what the real API says when the ``tool_result`` blocks
  that come back do not answer the previous turn's ``tool_use`` blocks (every id,
  first in the next user message), else None.
* :func:`block_events`: the SSE events of one content block (``text_delta`` or
  ``input_json_delta`` pieces).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from typing import Any


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return string.Template(value).safe_substitute(values)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _first_result(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    for block in last.get("content") or [] if isinstance(last.get("content"), list) else []:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            inner = block.get("content", "")
            return inner if isinstance(inner, str) else json.dumps(inner)
    return ""


def turn_number(body: dict[str, Any]) -> int:
    """1 + the number of assistant messages in the request."""
    return 1 + sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")


@dataclass
class TurnScript:
    """Assistant turns for requests that carry ``tools`` (see the module docstring)."""

    turns: list[dict[str, Any]] = field(default_factory=list)
    holds: dict[int, float] = field(default_factory=dict)  # turn -> seconds, first request only

    def hold_for(self, body: dict[str, Any]) -> float:
        """Seconds to hold this request (once per held turn)."""
        return self.holds.pop(turn_number(body), 0.0)

    def reply(self, body: dict[str, Any], ids: Any) -> list[dict[str, Any]] | None:
        """The content blocks for this request, or None past the script."""
        turn, seen = turn_number(body), 0
        for entry in self.turns:
            seen += max(1, int(entry.get("repeat", 1)))
            if turn <= seen:
                break
        else:
            return None
        values = {"turn": str(turn), "last": _first_result(body)[:200]}
        blocks: list[dict[str, Any]] = []
        if entry.get("text"):
            blocks.append({"type": "text", "text": _fill(str(entry["text"]), values)})
        for call in entry.get("tools") or []:
            (name, args), = call.items()
            blocks.append({"type": "tool_use", "id": ids("toolu"), "name": name,
                           "input": _fill(dict(args or {}), values)})
        return blocks


def tool_result_problem(body: dict[str, Any]) -> str | None:
    """The API's complaint about missing/misplaced ``tool_result`` blocks, or None."""
    messages = body.get("messages") or []
    for i, message in enumerate(messages):
        content = message.get("content")
        if message.get("role") != "assistant" or not isinstance(content, list):
            continue
        wanted = [b.get("id") for b in content if b.get("type") == "tool_use"]
        if not wanted:
            continue
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        if nxt is None:
            return f"messages.{i}: the last message may not be an assistant tool_use turn"
        blocks = nxt.get("content") if isinstance(nxt.get("content"), list) else []
        results = [b for b in blocks if b.get("type") == "tool_result"]
        got = [b.get("tool_use_id") for b in results]
        lead = [b.get("type") for b in blocks[: len(results)]]
        if sorted(map(str, got)) != sorted(map(str, wanted)) or set(lead) != {"tool_result"}:
            missing = ", ".join(str(w) for w in wanted if w not in got) or "(order)"
            return (f"messages.{i + 1}: `tool_use` ids were found without `tool_result` "
                    f"blocks immediately after: {missing}")
        for block in results:
            if not isinstance(block.get("content", ""), str | list):
                return f"messages.{i + 1}: tool_result content must be a string or blocks"
    return None


def block_events(index: int, block: dict[str, Any], pieces: int = 3) -> list[tuple[str, Any]]:
    """``content_block_start``, the deltas and ``content_block_stop`` of one block."""
    if block["type"] == "tool_use":
        start = dict(block, input={})
        raw = json.dumps(block["input"])
        size = max(1, -(-len(raw) // pieces))
        deltas = [{"type": "input_json_delta", "partial_json": raw[i:i + size]}
                  for i in range(0, len(raw), size)]
    else:
        start = {"type": "text", "text": ""}
        text = block["text"]
        size = max(1, -(-len(text) // pieces))
        deltas = [{"type": "text_delta", "text": text[i:i + size]}
                  for i in range(0, len(text), size)]
    return [
        ("content_block_start", {"type": "content_block_start", "index": index,
                                 "content_block": start}),
        *(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
          for d in deltas),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]
