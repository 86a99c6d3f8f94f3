"""Is anyone serving a worker pool? (``worker status --pool``, and the notes of show/list/doctor)

Two sources, combined because neither is enough alone:

* Temporal's poller list of the pool's task queue (``DescribeTaskQueue``): it sees
  workers on every host, but keeps a dead one listed for minutes (about 290 s),
  each with the time it last polled.
* This host's pool locks (:mod:`sagaflow._engine.poollocks`): exact and immediate
  for the workers of this home, and they remember roughly when the last one stopped.

A poller whose identity (``pid@host``, the SDK's default) names this host is alive
only while that pid holds its pool lock (or, for a worker started before pool
locks existed, while the process exists and polled recently); a poller on
another host is alive while it polled within :data:`FRESH_SECONDS` (a live idle
worker re-polls about once a minute).
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from sagaflow import procs
from sagaflow._engine import meta, poollocks
from sagaflow.config import Settings
from sagaflow.errors import TemporalError
from sagaflow.paths import Home
from sagaflow.timestamps import iso

#: a poller on another host counts as alive when it polled this recently (seconds)
FRESH_SECONDS = 90.0


@dataclass
class Poller:
    """One worker Temporal lists on the pool's queue.

    Attributes:
        identity: The worker's identity (``pid@host`` unless configured otherwise).
        last_poll: When it last polled (local ISO time, seconds).
        alive: Whether it still serves the pool (see the module doc).
        here: Whether it runs on this host.
    """

    identity: str
    last_poll: str | None
    alive: bool
    here: bool


@dataclass
class PoolStatus:
    """Who serves one pool.

    Attributes:
        pool: The pool name (``default``: the base task queue).
        task_queue: Its task queue.
        serving: Whether any worker is alive (a local lock holder or a live poller).
        local_pids: This host's live workers of the pool (pool locks).
        pollers: What Temporal lists, each judged alive or not.
        last_seen: When a worker of the pool was last known alive (local ISO), or None.
    """

    pool: str
    task_queue: str
    serving: bool
    local_pids: list[int] = field(default_factory=list)
    pollers: list[Poller] = field(default_factory=list)
    last_seen: str | None = None

    def start_command(self) -> str:
        """The command that serves this pool."""
        return "sagaflow worker start" if self.pool == meta.DEFAULT_POOL else (
            f"sagaflow worker run --pool {self.pool}")

    def waiting_note(self) -> str | None:
        """``waiting for a worker of pool P (none polling since T)``, or None when served."""
        if self.serving:
            return None
        since = f"none polling since {self.last_seen}" if self.last_seen else "none has polled"
        return f"waiting for a worker of pool {self.pool} ({since})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"waiting_note": self.waiting_note()}


def _split_identity(identity: str) -> tuple[int | None, str]:
    pid, _, host = identity.partition("@")
    return (int(pid) if pid.isdigit() else None), host


def _judge(identity: str, polled: datetime | None, local: set[int], now: datetime) -> Poller:
    pid, host = _split_identity(identity)
    here = host == socket.gethostname()
    fresh = polled is not None and (now - polled).total_seconds() <= FRESH_SECONDS
    if here and pid is not None:
        alive = pid in local or (fresh and procs.create_time(pid) is not None)
    else:
        alive = fresh
    return Poller(identity, iso(polled), alive, here)


async def _pollers(client: Client, task_queue: str) -> list[tuple[str, datetime | None]]:
    try:
        response = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ))
    except RPCError as exc:
        code = exc.status.name.lower() if exc.status else "error"
        raise TemporalError(
            f"Temporal did not describe task queue {task_queue} ({code}); "
            "check the connection with 'sagaflow doctor'.", retryable=True,
        ) from None
    return [
        (p.identity, p.last_access_time.ToDatetime(UTC) if p.HasField("last_access_time") else None)
        for p in response.pollers
    ]


async def pool_status(client: Client, settings: Settings, home: Home, pool: str) -> PoolStatus:
    """Who serves ``pool`` of this home now.

    Raises:
        UsageError: ``pool`` is not a valid pool name.
        TemporalError: Temporal did not answer.
    """
    pool = meta.check_pool(pool)
    queue = meta.pool_queue(settings.task_queue, pool)
    workers = poollocks.local_workers(home, pool)
    local = set(workers.pids)
    if pool == meta.DEFAULT_POOL:  # the build workers serve the base queue (each holds its lock)
        from sagaflow._engine import buildstate

        local.update(pid for pid in buildstate.live_workers(home).values() if pid > 0)
    now = datetime.now(UTC)
    pollers = [_judge(identity, polled, local, now)
               for identity, polled in await _pollers(client, queue)]
    seen = [w for w in (workers.last_seen,) if w is not None]
    seen += [datetime.fromisoformat(p.last_poll) for p in pollers if p.last_poll]
    return PoolStatus(
        pool=pool, task_queue=queue,
        serving=bool(local) or any(p.alive for p in pollers),
        local_pids=sorted(local), pollers=pollers,
        last_seen=iso(max(seen)) if seen else None,
    )


async def waiting_notes(
    client: Client, settings: Settings, home: Home, task_queues: set[str]
) -> dict[str, str]:
    """Task queue -> waiting note, for the queues (of open runs) no worker serves.

    One ``DescribeTaskQueue`` per distinct queue; queues of another home are skipped.
    """
    notes: dict[str, str] = {}
    prefix = meta.pool_prefix(settings.task_queue)
    for queue in sorted(task_queues):
        if queue != settings.task_queue and not queue.startswith(prefix):
            continue
        status = await pool_status(client, settings, home, meta.pool_of(queue, settings.task_queue))
        note = status.waiting_note()
        if note:
            notes[queue] = f"{note}; start one with '{status.start_command()}'"
    return notes
