"""Helpers given a coroutine where a callable belongs fail with their sentence, and
leave no ``coroutine ... was never awaited`` warning behind (it would reach stderr)."""

from __future__ import annotations

import asyncio
import gc
import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sagaflow._engine.flow_control import parallel, route


async def _step() -> str:
    return "done"


def _fails_cleanly(make: Callable[[Any], Awaitable[Any]], reason: str) -> None:
    coro = _step()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TypeError, match=reason):
            asyncio.run(make(coro))  # type: ignore[arg-type]
        gc.collect()
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED


def test_parallel_of_called_functions_closes_them() -> None:
    _fails_cleanly(lambda c: parallel([lambda: _step(), c]), r"^calls\[1\] must be a callable")


def test_route_branch_given_called_closes_it() -> None:
    _fails_cleanly(lambda c: route("a", {"a": c}), r"^route's branch 'a' must be a callable")


def test_route_default_given_called_closes_it() -> None:
    _fails_cleanly(lambda c: route("a", {"a": _step}, default=c), r"^default must be a callable")
