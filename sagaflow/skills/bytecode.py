"""Bytecode for a build's skills, written once by the build's worker.

Temporal's workflow sandbox imports a skill's workflow module (and its package's
``__init__``) afresh for every run. Python reads a cached ``.pyc`` when one sits beside
the source, but when the interpreter runs with ``PYTHONDONTWRITEBYTECODE`` (some
sandboxes and CI images set it) nobody writes one, and every run compiles the skill's
sources again: about 0.3-0.5 ms per file on the first workflow task of each run, here.

A build is an immutable snapshot under the sagaflow home (:mod:`sagaflow.skills.builds`),
so its bytecode never goes stale and belongs to sagaflow, not to the user's tree: the
worker serving it writes the bytecode once, in a thread, when it starts. Without
``PYTHONDONTWRITEBYTECODE`` Python writes it on the worker's first import anyway, and
nothing is done here. A skill directory outside a build (a pool worker's working tree)
is never touched.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def compile_build(root: Path) -> bool:
    """Write ``__pycache__`` bytecode for every Python file under ``root / "skills"``.

    Best effort: a file that does not compile (the worker already reported the skill
    as failing) or a directory that cannot be written leaves that file as it is.

    Returns:
        True if anything was attempted (``PYTHONDONTWRITEBYTECODE`` is set).
    """
    if not sys.dont_write_bytecode:
        return False
    import compileall  # only here: the worker's start-up thread

    with contextlib.suppress(OSError, ValueError):
        compileall.compile_dir(str(root / "skills"), quiet=2)
    for cached in (root / "skills").rglob("__pycache__/*.pyc"):  # read-only, as a build's files
        with contextlib.suppress(OSError):
            cached.chmod(0o400)
    return True
