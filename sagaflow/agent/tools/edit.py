"""Edit {file_path, old_string, new_string, replace_all?}: exact string replacement.

``old_string`` must occur in the file, exactly once unless ``replace_all`` is true; it
must differ from ``new_string``. An empty ``old_string`` creates a file that does not
exist yet (Claude Code's convention). The result is written atomically, permission bits
kept. The path must resolve inside the workspace.
"""

from __future__ import annotations

import asyncio

from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused
from sagaflow.agent.tools.paths import refusal_for, resolve, write_atomically

SCHEMA = {
    "type": "object",
    "properties": {
        "file_path": {"type": "string", "description": "The absolute path of the file to modify"},
        "old_string": {"type": "string", "description": "The text to replace"},
        "new_string": {"type": "string",
                       "description": "The text to replace it with (must differ from old_string)"},
        "replace_all": {"type": "boolean", "default": False,
                        "description": "Replace every occurrence of old_string (default false)"},
    },
    "required": ["file_path", "old_string", "new_string"],
    "additionalProperties": False,
}


def _edit(call: ToolCall) -> str:
    given = str(call.input["file_path"])
    old, new = str(call.input["old_string"]), str(call.input["new_string"])
    replace_all = bool(call.input.get("replace_all", False))
    if old == new:
        raise ToolRefused("Edit: old_string and new_string are the same; nothing would change.")
    path = resolve(call, given, write=True)
    try:
        if old == "" and not path.exists():
            write_atomically(path, new)
            return f"Created {path}."
        if path.is_dir():
            raise ToolRefused(f"Edit: {given} is a directory; give a file path.")
        with path.open(encoding="utf-8", newline="") as stream:  # keep CRLF line ends as they are
            text = stream.read()
    except UnicodeDecodeError:
        raise ToolRefused(f"Edit: {given} is not UTF-8 text; Edit changes text files only.") from None
    except OSError as exc:
        raise refusal_for(exc, call, given) from None
    if old == "":
        raise ToolRefused(f"Edit: {given} already exists; an empty old_string only creates a "
                          "new file. Give the text to replace.")
    count = text.count(old)
    if count == 0:
        raise ToolRefused(f"Edit: old_string was not found in {given}; read the file and copy "
                          "the text exactly (whitespace included).")
    if count > 1 and not replace_all:
        raise ToolRefused(f"Edit: old_string occurs {count} times in {given}; add surrounding "
                          "lines to make it unique, or set replace_all to replace every one.")
    try:
        write_atomically(path, text.replace(old, new) if replace_all else text.replace(old, new, 1))
    except OSError as exc:
        raise refusal_for(exc, call, given) from None
    return f"Edited {path}: {count if replace_all else 1} replacement(s)."


async def run(call: ToolCall) -> str:
    """Edit the file (in a thread)."""
    return await asyncio.to_thread(_edit, call)


TOOL = Tool(
    name="Edit",
    description=(
        "Replaces exact text in a workspace file. old_string must match the file exactly and "
        "be unique unless replace_all is true. file_path should be absolute."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="file_path",
)
