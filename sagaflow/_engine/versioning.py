"""Pinning runs to builds with Temporal Worker Versioning.

Every build's worker polls the base task queue as version
``<deployment>:<build>`` of the worker deployment named after the base task
queue (:func:`deployment_name`), with PINNED as its default behaviour. A launch
starts its run with a pinned versioning override to its build, so the run, its
retries/resets (a reset keeps the override) and its child workflows on the same
queue run on that build for their whole life. The build made *current* serves
whatever starts without an override: schedules' firings (pinned, in turn, to the
build current when they fire) and runs started by other tools.

Temporal records the version on the run: ``temporal workflow describe`` shows it
under versioning info, and the ``TemporalWorkerDeploymentVersion`` search
attribute (``<deployment>:<build>``) lets visibility find a build's open runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.common import (
    PinnedVersioningOverride,
    VersioningBehavior,
    WorkerDeploymentVersion,
)
from temporalio.service import RPCError

from sagaflow._engine.meta import SA_VERSION
from sagaflow.errors import TemporalError, UsageError
from sagaflow.paths import Home
from sagaflow.skills import builds

log = logging.getLogger("sagaflow.versioning")
T = TypeVar("T")



def deployment_name(base_queue: str) -> str:
    """The worker deployment of a home's builds: named after its base task queue."""
    return base_queue


def version(base_queue: str, build: str) -> WorkerDeploymentVersion:
    return WorkerDeploymentVersion(deployment_name(base_queue), build)


def pinned(base_queue: str, build: str) -> PinnedVersioningOverride:
    """The versioning override a run of ``build`` starts with."""
    return PinnedVersioningOverride(version(base_queue, build))


def worker_config(base_queue: str, build: str) -> Any:
    """The ``deployment_config`` of a build's worker (PINNED by default)."""
    from temporalio.worker import WorkerDeploymentConfig

    return WorkerDeploymentConfig(
        version=version(base_queue, build), use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.PINNED,
    )


def build_of(description: Any, base_queue: str | None) -> str | None:
    """The build a described run is pinned to (None: unversioned, or another deployment).

    Args:
        description: A ``WorkflowExecutionDescription`` (``handle.describe()``).
        base_queue: Only a build of this home's deployment counts (None: any deployment).
    """
    info = description.raw_description.workflow_execution_info.versioning_info
    candidates = [info.versioning_override.pinned.version, info.deployment_version]
    for candidate in candidates:
        wanted = base_queue is None or candidate.deployment_name == deployment_name(base_queue)
        if candidate.build_id and wanted:
            return str(candidate.build_id)
    return None


def open_runs_query(base_queue: str, build: str) -> str:
    return (f"{SA_VERSION} = '{deployment_name(base_queue)}:{build}' "
            "AND ExecutionStatus = 'Running'")


async def open_pinned_runs(client: Client, base_queue: str, build: str) -> int:
    """How many open runs (including schedule firings) run on ``build``."""
    counted = await client.count_workflows(open_runs_query(base_queue, build))
    return int(counted.count)


async def current_build(client: Client, base_queue: str) -> str | None:
    """The deployment's current build (None: none set, or no deployment yet)."""
    from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest

    try:
        described = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(
                namespace=client.namespace, deployment_name=deployment_name(base_queue)
            )
        )
    except RPCError:
        return None
    current = described.worker_deployment_info.routing_config.current_deployment_version
    return current.build_id or None


def marker_scope(address: str, namespace: str, base_queue: str) -> str:
    """What a "made current" marker is valid for: one deployment on one server and namespace."""
    return f"{address} {namespace} {deployment_name(base_queue)}"


async def make_current(client: Client, home: Home, base_queue: str, build: str) -> None:
    """Make ``build`` the deployment's current version (skipped when this home did already,
    for this server, namespace and deployment: :func:`marker_scope`).

    The marker only saves the RPC on later launches; a stale one (another tool or home made
    another build current since) never pins a run to the wrong build, because every launch
    pins its run to its own build explicitly (:func:`pinned`).

    Its worker must have polled: :func:`sagaflow._engine.daemon.spawn` returns only then.

    Raises:
        TemporalError: Temporal refused for another reason than a stale record.
    """
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest

    scope = marker_scope(client.service_client.config.target_host, client.namespace, base_queue)
    if builds.current_marker(home, scope) == build:
        return
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace, deployment_name=deployment_name(base_queue),
        build_id=build, ignore_missing_task_queues=True, identity="sagaflow",
    )
    for attempt in range(20):  # the version becomes known a moment after its first poll
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            break
        except RPCError as exc:
            if attempt == 19:
                raise TemporalError(
                    f"Temporal would not make build {build} current ({exc.message}); "
                    "see 'sagaflow worker status' and retry.", retryable=True,
                ) from None
            await asyncio.sleep(0.1)
    builds.set_current_marker(home, build, scope)


async def start_when_known(start: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """Call ``start`` (a workflow start pinned to a build, or a move to one), retrying while
    Temporal does not know the build's version on the task queue yet.

    Its worker waits for that before it reports itself started, but on a loaded server a
    partition of the task queue may learn it a moment later ("Pinned version ... is not
    present in task queue"); any other error is raised at once.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await start()
        except RPCError as exc:
            unknown = "is not present in task queue" in exc.message
            if not unknown or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.1)


async def move_run(client: Client, run_id: str, base_queue: str, build: str) -> None:
    """Pin open run ``run_id`` to ``build`` from its next workflow task on.

    The run's history is replayed on that build's worker: only safe when that code
    is compatible with it (``sagaflow replay-check``). ``upgrade`` is built on this.

    Raises:
        UsageError: No open run has that id.
        TemporalError: Temporal refused the change.
    """
    from google.protobuf.field_mask_pb2 import FieldMask
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.deployment.v1 import WorkerDeploymentVersion as VersionProto
    from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions
    from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
    from temporalio.service import RPCStatusCode

    override = VersioningOverride(pinned=VersioningOverride.PinnedOverride(
        behavior=VersioningOverride.PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED,
        version=VersionProto(deployment_name=deployment_name(base_queue), build_id=build),
    ))
    request = UpdateWorkflowExecutionOptionsRequest(
        namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=run_id),
        workflow_execution_options=WorkflowExecutionOptions(versioning_override=override),
        update_mask=FieldMask(paths=["versioning_override"]), identity="sagaflow",
    )
    try:  # a build whose worker just started: the task queue learns its version a moment later
        await start_when_known(
            lambda: client.workflow_service.update_workflow_execution_options(request))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UsageError(f"No open run has id {run_id}; see 'sagaflow list'.") from None
        raise TemporalError(
            f"Temporal would not move run {run_id} to build {build} ({exc.message}).",
        ) from None
