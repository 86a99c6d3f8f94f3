"""Glob {pattern, path?}: files matching a glob pattern, most recently modified first.

``**`` matches any number of directories; names starting with ``.`` match only when the
pattern names them. The search starts at ``path`` (default: the workspace), which must lie
in the workspace or the skill's directory; every match is resolved and one leading
elsewhere (a symlink out) is left out, and so is one a Read permission rule denies or
asks for (reading it alone would not run at once). At most :data:`MAX_RESULTS` paths are returned.
"""

from __future__ import annotations

import asyncio
import glob as globlib
import itertools
import os
from pathlib import Path

from sagaflow.agent.permissions import hidden_files
from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused
from sagaflow.agent.tools.paths import inside, resolve, roots

MAX_RESULTS = 100
#: entries looked at before giving up on a pattern that matches too much
MAX_SCANNED = 200_000

SCHEMA = {
    "type": "object",
    "properties": {
        "pattern": {"type": "string", "minLength": 1,
                    "description": "The glob pattern to match files against, e.g. **/*.py"},
        "path": {"type": "string",
                 "description": "The directory to search in (default: the workspace)"},
    },
    "required": ["pattern"],
    "additionalProperties": False,
}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _glob(call: ToolCall) -> str:
    pattern = str(call.input["pattern"])
    given = str(call.input.get("path") or call.workspace)
    base = resolve(call, given, write=False)
    if not base.is_dir():
        raise ToolRefused(f"Glob: {given} is not a directory; give the directory to search in.")
    allowed = roots(call, write=False)
    hidden = hidden_files(call.rules, call.workspace)
    found: dict[Path, float] = {}
    matches = globlib.iglob(pattern, root_dir=None if os.path.isabs(pattern) else base,
                            recursive=True)
    for name in itertools.islice(matches, MAX_SCANNED):
        path = (base / name).resolve()
        if path.is_file() and inside(path, allowed) and not (hidden and hidden(str(path))):
            found[path] = _mtime(path)
    if not found:
        return "No files found"
    ordered = sorted(found, key=lambda p: (-found[p], str(p)))
    lines = [str(p) for p in ordered[:MAX_RESULTS]]
    if len(ordered) > MAX_RESULTS:
        lines.append(f"(Results are truncated: {len(ordered)} files matched; use a more "
                     "specific path or pattern.)")
    return "\n".join(lines)


async def run(call: ToolCall) -> str:
    """Match the pattern (in a thread)."""
    return await asyncio.to_thread(_glob, call)


TOOL = Tool(
    name="Glob",
    description=(
        "Finds files by glob pattern (e.g. \"**/*.js\", \"src/**/*.ts\") in the workspace or "
        "path, most recently modified first, at most 100."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="pattern",
)
