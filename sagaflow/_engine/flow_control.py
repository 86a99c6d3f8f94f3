"""Workflow helpers for control flow: :func:`parallel`, :func:`loop_until`, :func:`route`.

Plain ``asyncio`` inside workflow code: Temporal runs workflow code on its own
deterministic event loop (tasks run in creation order, a ``Semaphore`` wakes its
waiters first in first out), so a replay schedules the same steps in the same order.
They add no commands of their own: only the calls they make (activities, timers,
children) reach history.

Bad arguments raise ``TypeError`` or ``ValueError`` at the call with one sentence
that names the parameter; the run fails with it (``sagaflow show``, the inbox).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from temporalio.exceptions import is_cancelled_exception

T = TypeVar("T")


@dataclass
class Branch(Generic[T]):
    """One call of :func:`parallel` and how it ended.

    Attributes:
        index: Its position in ``calls`` (0-based).
        ok: It returned a value.
        value: What it returned (None unless ``ok``).
        error: What it raised: its own exception, or ``asyncio.CancelledError`` when
            ``fail_fast`` cancelled it (or it never started) after another failed.
    """

    index: int
    ok: bool = False
    value: T | None = None
    error: BaseException | None = None

    @property
    def cancelled(self) -> bool:
        """It was cancelled (by ``fail_fast``) rather than failing on its own."""
        # a cancelled activity or child raises ActivityError/ChildWorkflowError caused by
        # CancelledError (asyncio.CancelledError only if it never started): Temporal's
        # own test says which, the same way on the first run and on replay
        return self.error is not None and is_cancelled_exception(self.error)


class ParallelError(Exception):
    """Some branches of :func:`parallel` failed; ``branches`` says how each ended.

    Its message counts the failures and names the first one (by index); its
    ``__cause__`` is that branch's error, so the run's failure reason reads
    ``2 of 5 parallel branches failed (branch 1 first): step spawn_subagent failed: ...``.
    """

    def __init__(self, branches: list[Branch[Any]]) -> None:
        self.branches = branches
        failed = [b for b in branches if not b.ok and not b.cancelled]
        first = failed[0].index if failed else next(b.index for b in branches if not b.ok)
        cancelled = sum(b.cancelled for b in branches)
        tail = f", {cancelled} cancelled" if cancelled else ""
        super().__init__(
            f"{len(failed)} of {len(branches)} parallel branches failed{tail} "
            f"(branch {first} first)"
        )

    @property
    def failed(self) -> list[Branch[Any]]:
        """The branches that raised (not those cancelled because of them)."""
        return [b for b in self.branches if not b.ok and not b.cancelled]


def _discard(value: object) -> None:
    """Close a coroutine given where a callable belongs (``parallel([ask_model(p)])``):
    the run fails with the TypeError that says so, and Python does not add a
    ``coroutine ... was never awaited`` warning on stderr."""
    if inspect.iscoroutine(value):
        value.close()


def _check_calls(calls: object) -> list[Callable[[], Awaitable[Any]]]:
    if isinstance(calls, str | bytes) or not isinstance(calls, Sequence):
        raise TypeError(f"calls must be a list of callables, not {type(calls).__name__}.")
    for i, call in enumerate(calls):
        if not callable(call):
            for value in calls:
                _discard(value)
            raise TypeError(
                f"calls[{i}] must be a callable returning an awaitable (for example "
                f"lambda: ask_model(...)), not {type(call).__name__}; pass the function, "
                "do not call it."
            )
    return list(calls)


async def parallel(
    calls: Sequence[Callable[[], Awaitable[T]]], *, max_concurrency: int | None = None,
    fail_fast: bool = True,
) -> list[T]:
    """Run ``calls`` concurrently, at most ``max_concurrency`` at a time; results in order.

    Each call is a zero-argument callable (``lambda: ask_model(p)``,
    ``functools.partial(...)``), started in list order as slots free up.

    Args:
        calls: The branches (at least one).
        max_concurrency: Most branches running at once (None: all).
        fail_fast: At the first failure, cancel the running branches and start no
            more (their activities are asked to cancel); else let every branch finish.

    Returns:
        Each call's result, in the order of ``calls``.

    Raises:
        ValueError: ``calls`` is empty, or ``max_concurrency`` is below 1.
        TypeError: a call is not callable, or ``max_concurrency`` is not an int.
        ParallelError: a branch failed (``.branches`` holds every branch's outcome).
        asyncio.CancelledError: the run was cancelled (every branch is cancelled first).
    """
    found = _check_calls(calls)
    if not found:
        raise ValueError("parallel needs at least one call; it was given none.")
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int)
    ):
        raise TypeError(f"max_concurrency must be an int or None, not {max_concurrency!r}.")
    if max_concurrency is not None and max_concurrency < 1:
        raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}.")
    if not isinstance(fail_fast, bool):
        raise TypeError(f"fail_fast must be True or False, not {fail_fast!r}.")
    slots = asyncio.Semaphore(max_concurrency or len(found))
    branches: list[Branch[T]] = [Branch(i) for i in range(len(found))]

    async def run(branch: Branch[T]) -> None:
        async with slots:
            branch.value = await found[branch.index]()
            branch.ok = True

    tasks = [asyncio.ensure_future(run(b)) for b in branches]
    try:
        when = asyncio.FIRST_EXCEPTION if fail_fast else asyncio.ALL_COMPLETED
        await asyncio.wait(tasks, return_when=when)
    finally:  # a failure (fail_fast) or the run's own cancellation: stop the rest
        for task in tasks:
            if not task.done():
                task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for branch, outcome in zip(branches, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            branch.error = outcome
    if all(b.ok for b in branches):
        return [b.value for b in branches]  # type: ignore[misc]
    error = ParallelError(branches)
    cause = error.failed[0].error if error.failed else None
    raise error from cause


class LoopLimitError(Exception):
    """:func:`loop_until` ran ``max_iterations`` times without its body saying done.

    Attributes:
        iterations: How many times the body ran.
        last: The last value the body returned.
    """

    def __init__(self, iterations: int, last: Any) -> None:
        self.iterations = iterations
        self.last = last
        super().__init__(
            f"loop_until stopped after {iterations} iteration{'s' * (iterations != 1)} "
            "without done=True; raise "
            "max_iterations or pass on_max='return_last' to keep the last value."
        )


async def loop_until(
    body: Callable[[int, T | None], Awaitable[tuple[bool, T]]], *, max_iterations: int,
    on_max: Literal["fail", "return_last"] = "fail",
) -> T:
    """Run ``body`` until it says done, at most ``max_iterations`` times.

    Args:
        body: ``async body(iteration, previous) -> (done, value)``; ``iteration``
            counts from 1, ``previous`` is the value of the iteration before (None
            the first time).
        max_iterations: The most iterations (at least 1).
        on_max: At the limit, ``"fail"`` raises :class:`LoopLimitError`,
            ``"return_last"`` returns the last value.

    Returns:
        The value of the iteration that returned ``done=True`` (or the last, see ``on_max``).

    Raises:
        TypeError: ``body`` is not callable, or returned something other than a
            ``(bool, value)`` pair.
        ValueError: ``max_iterations`` below 1, or another ``on_max``.
        LoopLimitError: the limit was reached with ``on_max="fail"``.
    """
    if not callable(body):
        raise TypeError(f"body must be an async function (iteration, previous), not "
                        f"{type(body).__name__}.")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
        raise TypeError(f"max_iterations must be an int, not {max_iterations!r}.")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, not {max_iterations}.")
    if on_max not in ("fail", "return_last"):
        raise ValueError(f"on_max must be 'fail' or 'return_last', not {on_max!r}.")
    previous: T | None = None
    for iteration in range(1, max_iterations + 1):
        result = await body(iteration, previous)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], bool)):
            raise TypeError(
                f"loop_until's body must return (done, value) with done a bool; iteration "
                f"{iteration} returned {result!r:.80}."
            )
        done, previous = result
        if done:
            return previous
    if on_max == "return_last":
        return previous  # type: ignore[return-value]
    raise LoopLimitError(max_iterations, previous)


async def route(
    key: str, branches: Mapping[str, Callable[[], Awaitable[T]]], *,
    default: Callable[[], Awaitable[T]] | None = None,
) -> T:
    """Run the branch ``key`` names (or ``default``) and return its result.

    The declared keys are checked before anything runs: ``branches`` must be a
    non-empty mapping of ``str`` to zero-argument callables.

    Raises:
        TypeError: ``key`` is not a str, a branch key is not a str, or a branch
            (or ``default``) is not callable.
        ValueError: ``branches`` is empty, or ``key`` is not declared and there is no
            ``default`` (the message lists the declared keys).
    """
    if not isinstance(branches, Mapping):
        raise TypeError(f"branches must be a mapping of name to callable, not "
                        f"{type(branches).__name__}.")
    if not branches:
        raise ValueError("route needs at least one branch; branches is empty.")
    odd = [k for k in branches if not isinstance(k, str)]
    if odd:
        raise TypeError(f"route's branch keys must be str, not {odd[0]!r}.")
    for name, branch in branches.items():
        if not callable(branch):
            for value in (*branches.values(), default):
                _discard(value)
            raise TypeError(f"route's branch {name!r} must be a callable returning an "
                            f"awaitable, not {type(branch).__name__}.")
    if default is not None and not callable(default):
        _discard(default)
        raise TypeError(f"default must be a callable returning an awaitable, not "
                        f"{type(default).__name__}.")
    if not isinstance(key, str):
        raise TypeError(f"route key must be a str, not {type(key).__name__} {key!r:.40}.")
    chosen = branches.get(key, default)
    if chosen is None:
        raise ValueError(
            f"route key {key!r} is not declared; declared: {', '.join(sorted(branches))} "
            "(add a branch for it or pass default=)."
        )
    return await chosen()
