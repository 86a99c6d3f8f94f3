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
import os
import tempfile
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


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file unique to this writer.

    Raises:
        OSError: the directory cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(content)
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
