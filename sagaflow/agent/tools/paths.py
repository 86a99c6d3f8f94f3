"""Path confinement for the file tools: the workspace, and (read-only) the skill's directory.

The same approach as :mod:`sagaflow._engine.confine` (which confines a run's artifacts to
its run directory): every path is resolved with symlinks followed (``Path.resolve``), so
``..``, an absolute path elsewhere and a symlink out are seen for what they are, and the
result must lie inside an allowed root. Writers write to the *resolved* path through a
temporary file and a rename, so what is written is what was checked: a symlink that
appears there afterwards is replaced, not followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from sagaflow.agent.tools.base import ToolCall, ToolRefused

#: OSError numbers that are the worker's trouble, not the model's: raised (Temporal retries)
INFRASTRUCTURE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.ENOMEM,
                                   errno.EMFILE, errno.ENFILE, errno.EROFS})


def roots(call: ToolCall, *, write: bool) -> list[Path]:
    """Where ``call`` may go: the workspace, plus the skill directory when only reading."""
    allowed = [Path(call.workspace)]
    if not write and call.skill_dir:
        allowed.append(Path(call.skill_dir))
    return allowed


def inside(path: Path, allowed: list[Path]) -> bool:
    """Whether the resolved ``path`` is one of ``allowed`` or below one (roots resolved too)."""
    for root in allowed:
        base = root.resolve()
        if path == base or path.is_relative_to(base):
            return True
    return False


def resolve(call: ToolCall, given: str, *, write: bool) -> Path:
    """The resolved absolute path of ``given`` (relative: to the workspace), checked.

    Raises:
        ToolRefused: ``given`` is empty, cannot be resolved, or leads outside the
            workspace (or, for reading, the skill directory).
    """
    if not given or "\0" in given:
        raise ToolRefused(f"{call.name}: the path {given!r} is empty or holds a NUL byte; "
                          "give an absolute path inside the workspace.")
    candidate = Path(given)
    if not candidate.is_absolute():
        candidate = Path(call.workspace) / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise ToolRefused(f"{call.name}: the path {given} cannot be resolved ({exc}).") from None
    allowed = roots(call, write=write)
    if inside(resolved, allowed):
        return resolved
    where = f"the workspace {call.workspace}"
    if not write and call.skill_dir:
        where += f" or the skill directory {call.skill_dir}"
    verb = "writes" if write else "reads"
    raise ToolRefused(
        f"{call.name}: the path {given} leads to {resolved}, outside {where}; this tool {verb} "
        "only there, so give a path inside it."
    )


def refusal_for(exc: OSError, call: ToolCall, given: str) -> ToolRefused:
    """A file error the model should hear about (missing file, a directory, no access...).

    Raises:
        OSError: ``exc`` itself when it is the worker's fault (disk full, I/O error): an
            infrastructure fault Temporal retries.
    """
    if exc.errno in INFRASTRUCTURE_ERRNOS:
        raise exc
    reason = exc.strerror or type(exc).__name__
    return ToolRefused(f"{call.name}: cannot use {given}: {reason}.")


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` (UTF-8) through a temporary file and a rename,
    keeping an existing file's permission bits (a script stays executable).

    Raises:
        OSError: the directory cannot be created or written.
    """
    mode = None
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(os.stat(path).st_mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
