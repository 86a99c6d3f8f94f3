"""Turning a Temporal failure chain into one readable reason."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, FailureError


def failure_reason(exc: BaseException) -> str:
    """The innermost human-readable message of a failure chain."""
    messages: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ActivityError):
            messages.append(f"step {current.activity_type} failed")
        elif isinstance(current, ApplicationError | FailureError):
            messages.append(current.message)
        else:
            messages.append(f"{type(current).__name__}: {current}")
        current = current.__cause__
    return ": ".join(m for m in messages if m) or type(exc).__name__
