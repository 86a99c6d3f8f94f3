"""``sagaflow worker start|run``: the worker daemon and foreground workers of a home.

The daemon itself is :mod:`sagaflow._engine.daemon`; the worker is
:mod:`sagaflow._engine.worker`. These are the library calls the CLI makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagaflow.config import Settings
from sagaflow.paths import Home


@dataclass(frozen=True)
class WorkerStart:
    """What ``worker start`` did: the daemon's pid, ``running``/``started``/``replaced``, its log."""

    pid: int
    action: str
    log: str


def start_daemon(home: Home, settings: Settings) -> WorkerStart:
    """Make sure Temporal answers and a current worker daemon serves this home's skills.

    Raises:
        TemporalError: When Temporal does not answer (and cannot be started here).
    """
    import asyncio

    from sagaflow._engine import daemon
    from sagaflow._engine.client import ensure_temporal

    home.ensure(home.worker, home.logs)
    asyncio.run(ensure_temporal(settings))
    pid, action = daemon.serve(home, settings)
    return WorkerStart(pid, action, str(home.worker_log))


def run_foreground(
    home: Home, settings: Settings, pool: str | None, max_concurrent: int | None
) -> None:
    """Run a worker in this process until SIGTERM/SIGINT (``pool`` None: the daemon's queue).

    Raises:
        UsageError: On a bad pool name.
    """
    import asyncio

    from sagaflow._engine.worker import run_worker, setup_logging

    home.ensure(home.worker, home.logs)
    pool = setup_logging(home, pool)
    asyncio.run(run_worker(home, settings, pool=pool, max_concurrent=max_concurrent))
