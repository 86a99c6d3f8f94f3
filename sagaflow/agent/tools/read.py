"""Read {file_path, offset?, limit?}: a text file with line numbers, as Claude Code shows it.

Output is ``cat -n`` style: the line number right-aligned in six columns, a tab, the line.
At most :data:`DEFAULT_LIMIT` lines per call, lines longer than :data:`MAX_LINE_CHARS`
characters cut; a file larger than :data:`MAX_WHOLE_BYTES` must be read in pieces
(``offset``/``limit``), a binary file (a NUL byte in its first 8 KiB) is refused.
Reads the workspace and the skill's own directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused
from sagaflow.agent.tools.paths import refusal_for, resolve

DEFAULT_LIMIT = 2000
MAX_LINE_CHARS = 2000
MAX_WHOLE_BYTES = 256 * 1024

SCHEMA = {
    "type": "object",
    "properties": {
        "file_path": {"type": "string", "description": "The absolute path of the file to read"},
        "offset": {"type": "integer", "minimum": 0,
                   "description": "The line number to start reading from (1 is the first line)"},
        "limit": {"type": "integer", "minimum": 1, "description": "The number of lines to read"},
    },
    "required": ["file_path"],
    "additionalProperties": False,
}


def read_lines(path: Path, start: int, limit: int) -> tuple[list[str], int]:
    """Lines ``start``.. (1-based) of ``path``, at most ``limit``, and the total line count."""
    lines: list[str] = []
    total = 0
    with path.open("r", encoding="utf-8", errors="replace", newline=None) as stream:
        for total, line in enumerate(stream, start=1):
            if start <= total < start + limit:
                line = line.rstrip("\n")
                if len(line) > MAX_LINE_CHARS:
                    line = line[:MAX_LINE_CHARS] + " ... [line cut]"
                lines.append(line)
    return lines, total


def _read(call: ToolCall) -> str:
    given = str(call.input["file_path"])
    path = resolve(call, given, write=False)
    offset = call.input.get("offset")
    limit = call.input.get("limit")
    try:
        if path.is_dir():
            raise ToolRefused(f"Read: {given} is a directory; use Glob to list files in it.")
        size = path.stat().st_size
        with path.open("rb") as stream:
            if b"\0" in stream.read(8192):
                raise ToolRefused(f"Read: {given} is a binary file; Read shows text files only.")
        if size > MAX_WHOLE_BYTES and offset is None and limit is None:
            raise ToolRefused(
                f"Read: {given} holds {size // 1024} KiB, more than the {MAX_WHOLE_BYTES // 1024} "
                "KiB one read may return; read part of it with offset and limit, or search it "
                "with Grep."
            )
        start = max(1, int(offset or 1))
        lines, total = read_lines(path, start, int(limit or DEFAULT_LIMIT))
    except OSError as exc:
        raise refusal_for(exc, call, given) from None
    if total == 0:
        return f"(The file {given} exists but is empty.)"
    if not lines:
        return f"(The file {given} has {total} lines; offset {start} is past its end.)"
    body = "\n".join(f"{number:>6}\t{line}" for number, line in enumerate(lines, start=start))
    last = start + len(lines) - 1
    if last < total:
        body += f"\n\n({total - last} more lines; read on with offset={last + 1}.)"
    return body


async def run(call: ToolCall) -> str:
    """Read the file (in a thread: file I/O never blocks the worker's event loop)."""
    return await asyncio.to_thread(_read, call)


TOOL = Tool(
    name="Read",
    description=(
        "Reads a text file from the workspace (or the skill's own directory). file_path should "
        "be absolute. Returns at most 2000 lines from offset (1-based), numbered like cat -n; "
        "longer lines are cut. Use offset and limit for large files."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="file_path",
)
