"""Write {file_path, content}: create or replace a file in the workspace, atomically.

The path must resolve inside the workspace (never the skill directory, never outside);
missing parent directories are created; the file is written through a temporary file
and a rename, keeping an existing file's permission bits.
"""

from __future__ import annotations

import asyncio

from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused
from sagaflow.agent.tools.paths import refusal_for, resolve, write_atomically

SCHEMA = {
    "type": "object",
    "properties": {
        "file_path": {"type": "string",
                      "description": "The absolute path of the file to write (must be absolute)"},
        "content": {"type": "string", "description": "The content to write to the file"},
    },
    "required": ["file_path", "content"],
    "additionalProperties": False,
}


def _write(call: ToolCall) -> str:
    given = str(call.input["file_path"])
    content = str(call.input["content"])
    path = resolve(call, given, write=True)
    if path.is_dir():
        raise ToolRefused(f"Write: {given} is a directory; give a file path.")
    existed = path.exists()
    try:
        write_atomically(path, content)
    except OSError as exc:
        raise refusal_for(exc, call, given) from None
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    verb = "Replaced" if existed else "Created"
    return f"{verb} {path} ({lines} lines, {len(content.encode('utf-8'))} bytes)."


async def run(call: ToolCall) -> str:
    """Write the file (in a thread)."""
    return await asyncio.to_thread(_write, call)


TOOL = Tool(
    name="Write",
    description=(
        "Writes a file in the workspace, replacing it if it exists. file_path should be "
        "absolute. Prefer Edit to change part of an existing file."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="file_path",
)
