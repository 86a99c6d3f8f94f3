"""Where a run's files may go: its run directory, or the roots the user allowed.

Every file sagaflow writes on a skill's behalf (``write_artifact``, a model step's
``output_path``) and every prompt file a model step reads resolves here first:

* a relative path is taken relative to the run directory (``<home>/runs/<run_id>``);
* the path is resolved with symlinks followed (``Path.resolve``), so ``..`` and a
  symlink out of the run directory are seen for what they are;
* the result must lie inside the run directory or inside one of the run's allowed
  roots (``artifacts: allowed_roots`` in ``config.yaml``, fixed when the run
  starts; see :class:`sagaflow._engine.meta.RunConfig`);
* anything else raises :class:`~sagaflow.errors.ConfinementError`, not retryable,
  naming the path as given and where it leads.

Callers write to the *resolved* path (a temporary file beside it, then a rename),
so what is written is what was checked: a symlink that appears there later is
replaced, not followed. ``emit_finding`` appends only to the home's ``INBOX.md``
(:func:`home_inbox`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

from temporalio import activity

from sagaflow.errors import ConfinementError
from sagaflow.paths import Home


def confine(path: str, run_dir: Path, roots: Sequence[str] = (), *, what: str) -> Path:
    """Resolve ``path`` and insist it lies inside ``run_dir`` or one of ``roots``.

    Args:
        path: As the skill gave it (absolute, or relative to ``run_dir``).
        run_dir: The run's directory (need not exist yet).
        roots: Further absolute directories the user allowed.
        what: How the message names the path (``"write_artifact path"``...).

    Returns:
        The resolved absolute path.

    Raises:
        ConfinementError: ``path`` is empty, loops through symlinks, or leads outside.
    """
    if not path or "\0" in path:
        raise ConfinementError(f"The {what} {path!r} is empty or holds a NUL byte; give a file path.")
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = run_dir / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise ConfinementError(f"The {what} {path} cannot be resolved ({exc}); give a plain path.") from None
    allowed = [run_dir, *(Path(root) for root in roots)]
    for root in allowed:
        base = root.resolve()
        if resolved != base and resolved.is_relative_to(base):
            return resolved
    where = ", ".join(str(root) for root in roots)
    extra = f" or the allowed roots ({where})" if roots else ""
    raise ConfinementError(
        f"The {what} {path} leads to {resolved}, outside the run directory {run_dir}{extra}; "
        "write inside the run directory, or add the directory to 'artifacts: allowed_roots' "
        "in config.yaml (it applies to runs launched after the change)."
    )


def current_run_dir(home: Home) -> Path:
    """The run directory of the activity being executed (``runs/<workflow id>``), or the
    home's ``runs/`` outside an activity (a seed function called directly).

    Raises:
        UsageError: the workflow id is not a usable run id (never a path).
    """
    try:
        run_id = activity.info().workflow_id
    except RuntimeError:  # not in an activity
        run_id = None
    return home.run_dir(run_id) if run_id else home.runs


def home_inbox(home: Home, given: str) -> Path:
    """The inbox ``emit_finding`` may append to: the home's ``INBOX.md``, and only when
    ``given`` (the skill's ``inbox_path``) resolves to it or is empty.

    Raises:
        ConfinementError: ``given`` names any other file.
    """
    if not given or Path(given).resolve() == home.inbox.resolve():
        return home.inbox
    raise ConfinementError(
        f"emit_finding was given the inbox {given}, but this worker's inbox is "
        f"{home.inbox}; pass the inbox_path that build_input received."
    )


#: flags of a writer's temporary file (``tempfile.mkstemp``'s, write-only)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
#: numbers this process's temporary files (with the pid: unique to this writer on the host)
_TEMP_IDS = itertools.count()


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` (UTF-8) to ``path`` through a temporary file unique to this writer
    (owner-only, as ``mkstemp`` makes them), then a rename.

    Four system calls (open, write, close, rename) where ``mkstemp``, ``os.fdopen`` and an
    upfront ``mkdir`` made ten: a model step writes two files, from a worker thread
    that takes the interpreter lock back after each call (on a busy worker that cost
    more CPU than the writing). The directory is made only when it is missing.

    Raises:
        OSError: the directory cannot be created or written.
    """
    data = content.encode("utf-8")
    folder, made = os.fspath(path.parent), False
    while True:
        tmp = os.path.join(folder, f".{path.name}.{os.getpid()}-{next(_TEMP_IDS)}.tmp")
        try:
            fd = os.open(tmp, _TEMP_FLAGS, 0o600)
            break
        except FileExistsError:  # left by an earlier process with this pid
            continue
        except FileNotFoundError:
            if made:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made = True
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def append_to(path: Path, content: str) -> None:
    """Add ``content`` at the end of ``path`` (created when missing), in one write.

    Raises:
        OSError: the directory cannot be created or the file written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(content)
