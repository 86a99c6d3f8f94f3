"""``sagaflow worker start|run|status``: the build workers and foreground workers of a home.

The daemons themselves are :mod:`sagaflow._engine.daemon` (one per build); the
worker is :mod:`sagaflow._engine.worker`. These are the library calls the CLI makes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sagaflow.config import Settings
from sagaflow.paths import Home


@dataclass(frozen=True)
class WorkerStart:
    """What ``worker start`` did.

    Attributes:
        pid: The worker of the working directory's build.
        action: ``running``, ``started`` or ``replaced``.
        log: The workers' log file.
        build: The working directory's build (now current).
        revived: Build -> pid of the workers brought back for builds with open runs.
    """

    pid: int
    action: str
    log: str
    build: str = ""
    revived: dict[str, int] = field(default_factory=dict)


async def _builds_with_open_runs(client: Any, home: Home, settings: Settings) -> list[str]:
    from sagaflow._engine import versioning
    from sagaflow.skills import builds

    wanted = []
    for build in builds.known(home):
        if await versioning.open_pinned_runs(client, settings.task_queue, build) > 0:
            wanted.append(build)
    return wanted


def start_daemon(home: Home, settings: Settings) -> WorkerStart:
    """Serve the working directory's build (made current), and bring back the worker of
    every build of this home that has open runs but no worker.

    Raises:
        TemporalError: When Temporal does not answer (and cannot be started here).
        BuildError: A snapshot cannot be written.
        WorkerError: A worker would not start.
    """
    from sagaflow._engine import buildstate, daemon, versioning
    from sagaflow._engine.client import ensure_temporal

    async def main() -> WorkerStart:
        home.ensure(home.worker, home.logs)
        client = await ensure_temporal(settings)
        build, pid, action = await asyncio.to_thread(daemon.serve_build, home, settings)
        await versioning.make_current(client, home, settings.task_queue, build.id)
        revived = {}
        for other in await _builds_with_open_runs(client, home, settings):
            if buildstate.live_pid(home, other) is None:
                revived[other], _ = await asyncio.to_thread(daemon.revive, home, settings, other)
        return WorkerStart(pid, action, str(home.worker_log), build.id, revived)

    return asyncio.run(main())


def status(home: Home, settings: Settings) -> dict[str, Any]:
    """Every live build worker of this home, with its open runs when Temporal answers.

    Returns:
        ``{"workers": [{"build", "pool", "pid", "current", "open_runs", "started_at",
        "task_queue", "address", "skills", "log"}...], "current_build": str | None}``;
        ``open_runs`` is None when Temporal could not be asked.
    """
    from sagaflow._engine import daemon
    from sagaflow._engine.client import resolve
    from sagaflow._engine.versioning import marker_scope
    from sagaflow.skills import builds

    rows = daemon.workers(home)
    target = resolve(settings)
    current = builds.current_marker(
        home, marker_scope(target.address, target.namespace, settings.task_queue))
    counts: dict[str, int | None] = {row["build"]: None for row in rows}
    if rows:
        counts = asyncio.run(_open_counts(settings, list(counts)))
    for row in rows:
        row["current"] = row["build"] == current
        row["open_runs"] = counts.get(row["build"])
    return {"workers": rows, "current_build": current}


async def _open_counts(settings: Settings, wanted: list[str]) -> dict[str, int | None]:
    from sagaflow._engine import versioning
    from sagaflow._engine.client import connect
    from sagaflow.errors import SagaflowError

    counts: dict[str, int | None] = dict.fromkeys(wanted)
    try:
        client = await asyncio.wait_for(connect(settings), timeout=5)
        for build in wanted:
            counts[build] = await versioning.open_pinned_runs(client, settings.task_queue, build)
    except (TimeoutError, SagaflowError, OSError, RuntimeError):
        pass  # Temporal unreachable: the workers are still listed, their counts unknown
    return counts


def run_foreground(
    home: Home, settings: Settings, pool: str | None, max_concurrent: int | None,
    build: str | None = None,
) -> None:
    """Run a worker in this process until SIGTERM/SIGINT or idle retirement.

    ``build`` serves that build (the daemon); neither ``pool`` nor ``build`` serves the
    working directory's build; ``pool`` serves that pool, unversioned.

    Raises:
        UsageError: On a bad pool name, or both ``pool`` and ``build``.
    """
    from sagaflow._engine.worker import run_worker, setup_logging
    from sagaflow.errors import UsageError

    if pool is not None and build is not None:
        raise UsageError("--pool and --build cannot be combined: pool workers are unversioned.")
    home.ensure(home.worker, home.logs)
    pool = setup_logging(home, pool, build)
    asyncio.run(run_worker(home, settings, pool=pool, max_concurrent=max_concurrent, build=build))
