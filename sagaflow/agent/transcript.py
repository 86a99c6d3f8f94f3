"""The agent's transcript: a JSON-lines file in the run directory, never whole in history.

Each line is one entry ``{"turn": N, "role": ..., ...}``:

* ``{"turn": 0, "role": "system", "system": TEXT}`` — the system prompt;
* ``{"turn": 0, "role": "user", "content": TEXT}`` — the launch's user message;
* ``{"turn": N, "role": "assistant", "content": [blocks], "usage": {...}}`` — model turn N;
* ``{"turn": N, "role": "user", "content": [tool_result blocks]}`` — the tool results
  model turn N reads (answers to turn N-1's tool calls).

Lines are only appended (flushed and fsynced per entry). A reader keeps, per
``(turn, role)``, the last line written and ignores turns after the one asked for, so
an activity retried after a crash, or a run reset by ``retry``, sees a consistent
conversation; a model turn already written is reused, never asked (paid) again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sagaflow.agent.types import ToolResult

FILE = "transcript.jsonl"


def path_for(run_dir: str, name: str = FILE) -> Path:
    """``run_dir/agent/<name>``."""
    return Path(run_dir) / "agent" / name


def append(path: Path, entry: dict[str, Any]) -> int:
    """Append one entry (flushed and fsynced); returns the file's size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
        return handle.tell()


def entries(path: Path, upto: int | None = None) -> dict[tuple[int, str], dict[str, Any]]:
    """The latest entry per ``(turn, role)``, turns after ``upto`` left out.

    A torn last line (a crash mid-write) is skipped.
    """
    found: dict[tuple[int, str], dict[str, Any]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        turn = int(entry.get("turn", 0))
        if upto is None or turn <= upto:
            found[(turn, str(entry.get("role")))] = entry
    return found


def messages(found: dict[tuple[int, str], dict[str, Any]], upto: int) -> list[dict[str, Any]]:
    """The Messages API ``messages`` for model turn ``upto`` (system entry left out)."""
    out: list[dict[str, Any]] = []
    for turn in range(upto + 1):
        for role in ("user", "assistant") if turn else ("user",):
            entry = found.get((turn, role))
            if entry is not None and not (turn == upto and role == "assistant"):
                out.append({"role": role, "content": entry["content"]})
    return out


def result_blocks(results: list[ToolResult]) -> list[dict[str, Any]]:
    """``tool_result`` blocks, in the order of the calls."""
    blocks = []
    for result in results:
        block = asdict(result)
        path = block.pop("path")
        if path:  # a long output: kept in the run dir, read back here
            block["content"] = Path(path).read_text(encoding="utf-8")
        block["type"] = "tool_result"
        if not block["is_error"]:
            del block["is_error"]
        blocks.append(block)
    return blocks


def read_all(path: Path) -> list[dict[str, Any]]:
    """Every entry in order of turns (``show``, tests)."""
    found = entries(path)
    order = {"system": 0, "user": 1, "assistant": 2}
    return [found[key] for key in sorted(found, key=lambda k: (k[0], order.get(k[1], 3)))]
