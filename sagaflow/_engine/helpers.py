"""Helpers skills call from workflow code: approvals, signals, compensations, pools.

All of them need the run control sagaflow's worker installs in every run.

Example::

    from sagaflow._engine.helpers import ApprovalGate, Saga, wait_for_signal

    decision = await ApprovalGate(timeout=timedelta(hours=1), default="reject").wait(
        "publish", prompt="Publish the draft?"
    )
    if not decision.approved:
        raise ApplicationError(f"not published: {decision.reason}", non_retryable=True)

    data = await wait_for_signal("manager_approval", timeout=timedelta(hours=48))

Every duration is seconds (``int | float``) or a ``datetime.timedelta``
(:func:`sagaflow.durations.to_timedelta`); anything else raises ``TypeError`` at the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow

from sagaflow._engine import meta
from sagaflow._engine.control import current, run_options
from sagaflow._engine.control_types import APPROVAL, Decision
from sagaflow.durations import Duration, to_seconds

_UNSET: Any = object()


class ApprovalGate:
    """Wait for a human decision; a timeout takes ``default``.

    The run shows as waiting (``sagaflow list --waiting``), an inbox entry
    NEEDS APPROVAL gives the exact command to answer, and ``sagaflow approve``
    / ``reject`` answer it through a validated update. The decision (who, when,
    comment or reason, or that it timed out) is returned and kept in the run's
    status.

    Args:
        timeout_seconds: How long the gate waits (seconds or a ``timedelta``; None:
            forever); the seed's name, kept.
        default: ``"approve"`` or ``"reject"``: the decision a timeout takes.
        timeout: The same as ``timeout_seconds`` under the name the other helpers use;
            give one of the two.

    Raises:
        TypeError: a timeout that is neither seconds nor a ``timedelta``, or both given.
        ValueError: a timeout that is not positive, or another ``default``.
    """

    def __init__(self, timeout_seconds: Duration | None = None, default: str = "reject", *,
                 timeout: Duration | None = None) -> None:
        if default not in ("approve", "reject"):
            raise ValueError(f"default must be 'approve' or 'reject', not {default!r}.")
        if timeout is not None and timeout_seconds is not None:
            raise TypeError("ApprovalGate takes timeout or timeout_seconds, not both.")
        param = "timeout" if timeout is not None else "timeout_seconds"
        given = timeout if timeout is not None else timeout_seconds
        #: seconds (float) or None: what the gate's timer and inbox entry use
        self.timeout_seconds = None if given is None else to_seconds(given, param)
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


async def wait_for_signal(
    name: str, *, timeout: Duration | None = None, default: Any = _UNSET
) -> Any:
    """The oldest ``name`` signal's payload (``sagaflow signal RUN NAME JSON``).

    Signals that arrive before the wait are buffered, first in first out.
    ``timeout`` is seconds or a ``timedelta`` (None: wait forever).

    Raises:
        TypeError, ValueError: ``timeout`` is not a positive duration (at the call).
        TimeoutError: when ``timeout`` passes first and no ``default`` is given.
    """
    seconds = None if timeout is None else to_seconds(timeout, "timeout")
    arrived, value = await current().wait_signal(name, seconds)
    if arrived:
        return value
    if default is not _UNSET:
        return default
    raise TimeoutError(f"no {name!r} signal within {seconds or 0:g}s")


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
