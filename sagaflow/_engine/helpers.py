"""Helpers skills call from workflow code: approvals, signals, compensations, pools.

All of them need the run control sagaflow's worker installs in every run.

Example::

    from sagaflow._engine.helpers import ApprovalGate, Saga, wait_for_signal

    decision = await ApprovalGate(timeout_seconds=3600, default="reject").wait(
        "publish", prompt="Publish the draft?"
    )
    if not decision.approved:
        raise ApplicationError(f"not published: {decision.reason}", non_retryable=True)

    data = await wait_for_signal("manager_approval", timeout=48 * 3600)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow

from sagaflow._engine import meta
from sagaflow._engine.control import current, run_options
from sagaflow._engine.control_types import APPROVAL, Decision

_UNSET: Any = object()


class ApprovalGate:
    """Wait for a human decision; a timeout takes ``default``.

    The run shows as waiting (``sagaflow list --waiting``), an inbox entry
    NEEDS APPROVAL gives the exact command to answer, and ``sagaflow approve``
    / ``reject`` answer it through a validated update. The decision (who, when,
    comment or reason, or that it timed out) is returned and kept in the run's
    status.
    """

    def __init__(self, timeout_seconds: float | None = None, default: str = "reject") -> None:
        if default not in ("approve", "reject"):
            raise ValueError(f"default must be 'approve' or 'reject', not {default!r}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = timeout_seconds
        self.default = default

    async def wait(self, *where: Any, prompt: str = "") -> Decision:
        """Block until ``step`` is decided.

        Accepts ``wait("publish")`` and the seed's ``wait(wf, "publish")`` shape
        (a leading non-string argument is ignored).
        """
        names = [w for w in where if isinstance(w, str)]
        step = names[0] if names else "approval"
        return await current().open_gate(
            step, APPROVAL, prompt or f"approve step {step!r}?", self.timeout_seconds, self.default
        )


async def wait_for_signal(name: str, *, timeout: float | None = None, default: Any = _UNSET) -> Any:
    """The oldest ``name`` signal's payload (``sagaflow signal RUN NAME JSON``).

    Signals that arrive before the wait are buffered, first in first out.

    Raises:
        TimeoutError: when ``timeout`` seconds pass first and no ``default`` is given.
    """
    arrived, value = await current().wait_signal(name, timeout)
    if arrived:
        return value
    if default is not _UNSET:
        return default
    raise TimeoutError(f"no {name!r} signal within {timeout:g}s")


class Saga:
    """Compensations that undo completed steps when a later one fails or the run is cancelled.

    Use it as ``async with Saga() as saga:``; after each step that needs undoing,
    ``saga.add(undo_fn, *args)`` (an async callable, e.g. a lambda around
    ``workflow.execute_activity``). On an exception or cancellation the
    compensations run newest first, then the error propagates.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]] = []

    def add(self, undo: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._undo.append((undo, args))

    async def compensate(self) -> None:
        while self._undo:
            undo, args = self._undo.pop()
            try:
                await undo(*args)
            except Exception as exc:  # keep undoing the rest
                workflow.logger.warning("compensation %s failed: %s", undo, exc)

    async def __aenter__(self) -> Saga:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:  # any failure, including cancellation
            await self.compensate()


def pool(name: str) -> str:
    """The task queue of worker pool ``name``, for ``execute_activity(task_queue=...)``."""
    return meta.pool_queue(run_options().base_queue, meta.check_pool(name))
