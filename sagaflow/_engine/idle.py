"""A build worker's start-up readiness and its retirement when idle.

A build's worker is needed while its build is current (new launches, schedule
firings) or while open runs are pinned to it. Once neither holds for
``timeouts.worker_idle_seconds`` (config.yaml; default 600 s) in a row, it
exits by itself, gracefully. Any command acting on a run of that build brings
it back from the snapshot (:func:`sagaflow._engine.daemon.revive`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from sagaflow._engine import buildstate, versioning
from sagaflow.paths import Home

log = logging.getLogger("sagaflow.worker")

#: how often an idle check runs, at most (seconds)
CHECK_EVERY = 30.0
#: a worker a command ensured this recently is busy whatever visibility says: the run it
#: was ensured for may not be started (or visible) yet
LEASE_GRACE = 10.0


async def wait_until_known(
    client: Client, base_queue: str, build: str, running: asyncio.Task[Any], timeout: float = 30.0
) -> None:
    """Wait until Temporal lists this build's version on the base task queue.

    A run cannot be started pinned to a version the task queue has not seen a
    poll from ("Pinned version ... is not present in task queue"), so the daemon
    reports itself started only after this.
    """
    from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentVersionRequest

    request = DescribeWorkerDeploymentVersionRequest(
        namespace=client.namespace,
        deployment_version=versioning.version(base_queue, build)._to_proto(),
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not running.done():
        try:
            described = await client.workflow_service.describe_worker_deployment_version(request)
            queues = described.worker_deployment_version_info.task_queue_infos
            if any(q.name == base_queue for q in queues):
                return
        except RPCError:
            pass  # not known yet
        await asyncio.sleep(0.05)
    log.warning("build %s: Temporal has not listed this version on %s yet", build, base_queue)


async def is_idle(client: Client, home: Home, base_queue: str, build: str,
                  idle_seconds: float) -> bool:
    """Not needed lately, not current, no open run (visibility); False when unsure."""
    if buildstate.seconds_since_used(home, build) < idle_seconds + LEASE_GRACE:
        return False
    try:
        if await versioning.current_build(client, base_queue) == build:
            return False
        return await versioning.open_pinned_runs(client, base_queue, build) == 0
    except RPCError:
        return False


async def retire_when_idle(
    client: Client, home: Home, base_queue: str, build: str, idle_seconds: float,
    stop: asyncio.Event,
) -> None:
    """Set ``stop`` once the build stayed idle for ``idle_seconds`` (0 or less: never)."""
    if idle_seconds <= 0:
        return
    every = min(CHECK_EVERY, max(idle_seconds / 4, 0.5))
    since: float | None = None
    while not stop.is_set():
        await asyncio.sleep(every)
        if not await is_idle(client, home, base_queue, build, idle_seconds):
            since = None
            continue
        since = since if since is not None else time.monotonic()
        if time.monotonic() - since >= idle_seconds:
            log.info("build %s is not current and has no open runs for %.0fs: exiting",
                     build, idle_seconds)
            stop.set()
