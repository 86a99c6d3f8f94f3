"""Turning a Temporal failure chain into one readable reason."""

from __future__ import annotations

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    FailureError,
    is_cancelled_exception,
)


def failure_reason(exc: BaseException) -> str:
    """The innermost human-readable message of a failure chain.

    A plain Python exception a workflow raises reads as Temporal records it (its
    message), so the inbox, ``show`` and ``list`` agree: ``TimeoutError: no 'x' signal``
    in one place and ``no 'x' signal`` in another was the same failure twice. The class
    name stays when the message alone says nothing (empty, or a ``KeyError``'s bare key).
    """
    messages: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ActivityError):
            messages.append(f"step {current.activity_type} failed")
        elif isinstance(current, ApplicationError | FailureError):
            messages.append(current.message)
        elif str(current) and not isinstance(current, LookupError):
            messages.append(str(current))
        else:
            messages.append(f"{type(current).__name__}: {current}".removesuffix(": "))
        current = current.__cause__
    return ": ".join(m for m in messages if m) or type(exc).__name__


def caused_by_cancel(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised because of, a Temporal cancellation."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if is_cancelled_exception(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def cancelled_summary(reason: str | None) -> str:
    """The CANCELLED entry's text: the request's reason, and that compensations ran."""
    why = f"cancelled: {reason}" if reason else "cancelled by request"
    return f"{why}; compensations (if any) ran"
