"""Temporal's ``NOT_FOUND``, said one way for runs and schedules.

Every command that names a run by id turns Temporal's ``NOT_FOUND`` answer into
:class:`~sagaflow.errors.RunNotFoundError` with the same sentence::

    with missing.run(run_id):
        desc = await handle.describe()
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from sagaflow.errors import RunNotFoundError, SagaflowError


def run_not_found(run_id: str) -> RunNotFoundError:
    """The one error every command gives for a run id Temporal does not know."""
    return RunNotFoundError(f"No run {run_id} in Temporal; check the id with 'sagaflow list'.")


def is_not_found(exc: BaseException) -> bool:
    """Whether ``exc`` is Temporal's ``NOT_FOUND`` RPC answer."""
    from temporalio.service import RPCError, RPCStatusCode

    return isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND


@contextlib.contextmanager
def not_found_as(error: Callable[[], SagaflowError]) -> Iterator[None]:
    """Raise ``error()`` instead of Temporal's ``NOT_FOUND`` inside the block (others pass)."""
    try:
        yield
    except Exception as exc:
        if is_not_found(exc):
            raise error() from None
        raise


def run(run_id: str) -> contextlib.AbstractContextManager[None]:
    """Inside the block, ``NOT_FOUND`` becomes :func:`run_not_found` for ``run_id``."""
    return not_found_as(lambda: run_not_found(run_id))
