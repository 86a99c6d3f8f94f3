"""Command-line parameters several commands share: the run id argument and its check.

A run id is checked before any RPC, so ``approve ""`` or a pasted id with a space
gets one sentence instead of Temporal's raw refusal. The rule is Temporal's own
(a workflow id is any non-empty text up to 1,000 characters) minus what cannot
come from sagaflow (whitespace and control characters), not sagaflow's stricter
rule for ids it creates: a schedule's parent runs have ids with ``:`` in them.
"""

from __future__ import annotations

from typing import Any

import typer

from sagaflow.errors import UsageError

#: Temporal's default limit on a workflow id's length (frontend ``limit.maxIDLength``)
MAX_RUN_ID = 1000


def check_run_ref(run_id: str) -> str:
    """``run_id`` if it can name a run, else :class:`UsageError` saying what is wrong.

    Raises:
        UsageError: Empty, longer than :data:`MAX_RUN_ID`, or with whitespace or
            control characters.
    """
    problem = ""
    if not run_id.strip():
        problem = "is empty"
    elif len(run_id) > MAX_RUN_ID:
        problem = f"is {len(run_id)} characters long (at most {MAX_RUN_ID})"
    elif any(ch.isspace() or not ch.isprintable() for ch in run_id):
        problem = "contains a space or a control character"
    if problem:
        shown = run_id if len(run_id) <= 60 else run_id[:57] + "..."
        raise UsageError(
            f"The run id {shown!r} {problem}; copy the id from 'sagaflow list' or 'sagaflow inbox'."
        )
    return run_id


def _checked(value: str | None) -> str | None:
    return None if value is None else check_run_ref(value)


def run_argument(help: str = "The run id (see 'sagaflow list').") -> Any:
    """A required ``RUN`` argument checked by :func:`check_run_ref` before the command runs."""
    return typer.Argument(..., metavar="RUN", help=help, callback=_checked, show_default=False)
