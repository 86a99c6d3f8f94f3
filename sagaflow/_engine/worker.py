"""The Temporal worker that runs every loadable skill.

Built once from the skill registry (a Worker's workflows and activities are
fixed at construction); a changed skill means a new worker, which the daemon
layer arranges. SIGTERM/SIGINT stop polling at once, release the liveness lock
so a replacement can start, then drain in-flight activities.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import re
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from sagaflow._engine import buildstate, daemon, versioning
from sagaflow._engine.activities import BUILTIN_ACTIVITIES
from sagaflow._engine.client import connect
from sagaflow._engine.hooks import worker_extensions
from sagaflow._engine.meta import DEFAULT_POOL, SCHEDULED_WORKFLOW, pool_queue
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.poollocks import PoolLock
from sagaflow._engine.scheduled import PREPARE_ACTIVITY
from sagaflow._engine.search_attributes import ensure_registered
from sagaflow._engine.seeds import SEED_ACTIVITIES
from sagaflow.agent import AGENT_ACTIVITIES, AGENT_WORKFLOW, KIND
from sagaflow.agent.tools.activity import RUN_TOOL
from sagaflow.config import Settings
from sagaflow.models import has_api_key
from sagaflow.paths import Home
from sagaflow.skills.discovery import LoadedSkills, SkillInfo, discover, load_skills

log = logging.getLogger("sagaflow.worker")


def activity_name(fn: Callable[..., Any]) -> str | None:
    """The Temporal name of an ``@activity.defn`` callable, or None for anything else.

    temporalio 1.35 has no public accessor for an activity's definition; this
    uses ``activity._Definition.from_callable``, the lookup the SDK's own
    ``ActivityEnvironment`` and ``Worker`` use, in this one place.
    """
    defn = activity._Definition.from_callable(fn)
    return defn.name if defn is not None else None


def collect(loaded: LoadedSkills) -> tuple[list[type], list[Callable[..., Any]], dict[str, str]]:
    """The skills' workflows, their own activities and workflow→skill names to register.

    sagaflow's built-in activities (and the seed functions skills list for
    them) are not here: :class:`SagaflowPlugin` adds them. A skill whose
    workflow or activity name clashes with sagaflow's or an earlier skill's is
    marked as an error and left out; the others still run.
    """
    reserved = {SCHEDULED_WORKFLOW, AGENT_WORKFLOW}
    builtin = BUILTIN_ACTIVITIES | {PREPARE_ACTIVITY, RUN_TOOL, *AGENT_ACTIVITIES}
    workflows: dict[str, type] = {}
    activities: dict[str, Callable[..., Any]] = {}
    names: dict[str, str] = {}
    for spec in loaded.registry:
        if spec.kind == KIND:  # SKILL.md skills run on the plugin's agent loop
            continue
        info = next((i for i in loaded.infos if i.name == spec.name and i.status == "ok"), None)
        problem = None
        wf_name = spec.workflow_name
        if wf_name in reserved or (wf_name in workflows and workflows[wf_name] is not spec.workflow_cls):
            owner = names.get(wf_name, "sagaflow")
            problem = f"its workflow name {wf_name!r} is already used by skill {owner!r}"
        own: dict[str, Callable[..., Any]] = {}
        for fn in spec.activities:
            act = activity_name(fn)
            if any(fn is seed for seed in SEED_ACTIVITIES.values()):
                continue  # the plugin registers the built-in under this name
            if act is None:
                problem = f"{getattr(fn, '__name__', fn)!r} is not an @activity.defn function"
            elif act in builtin:
                problem = f"its activity name {act!r} is one of sagaflow's own"
            elif act in activities and activities[act] is not fn:
                problem = f"its activity name {act!r} is already registered by another skill"
            else:
                own[act] = fn
        if problem:
            if info is not None:
                info.status, info.error = "error", f"Skill {spec.name} cannot run: {problem}."
            log.error("skill %s not loaded: %s", spec.name, problem)
            continue
        workflows[wf_name] = spec.workflow_cls
        activities.update(own)
        names[wf_name] = spec.name
    return list(workflows.values()), list(activities.values()), names


def build_worker(
    client: Client, home: Home, settings: Settings, loaded: LoadedSkills, *,
    pool: str | None = None, max_concurrent: int | None = None, build: str | None = None,
) -> Worker:
    """A Worker for every skill that loaded, configured by :class:`SagaflowPlugin`.

    Args:
        pool: serve this pool's task queue instead of the base one.
        max_concurrent: at most this many activities (model calls) at once.
        build: poll as this build's version of the deployment (Worker Versioning,
            PINNED by default; see :mod:`sagaflow._engine.versioning`); None: unversioned.
    """
    workflows, activities, names = collect(loaded)
    plugins, otel = worker_extensions(settings, {**names, AGENT_WORKFLOW: AGENT_WORKFLOW})
    plugin = SagaflowPlugin(home, settings, names, loaded=loaded, plugins=plugins, otel=otel)
    return Worker(
        client,
        task_queue=pool_queue(settings.task_queue, pool),
        max_concurrent_activities=max_concurrent or None,
        workflows=workflows,
        activities=activities,
        plugins=[plugin],
        deployment_config=versioning.worker_config(settings.task_queue, build) if build else None,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_seconds),
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    )


#: C0 controls but tab and newline, DEL, C1 controls: what a log line may not carry raw
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class PlainFormatter(logging.Formatter):
    """A formatter whose lines hold no terminal escapes or other control characters.

    Messages carry text sagaflow does not control (model errors, skill names, core
    logs): each control character is written as ``\\xNN``, so ``less``, ``tail -f``
    or ``sagaflow logs`` show it and a terminal never interprets it.
    """

    def format(self, record: logging.LogRecord) -> str:
        return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", super().format(record))


def setup_logging(home: Home, pool: str | None, build: str | None = None) -> str | None:
    """Log to stderr (the daemon's stderr is worker.log); ``--pool`` workers also to logs/.

    Every line goes through :class:`PlainFormatter`, Temporal's core (Rust) logs
    included: they are forwarded to the ``temporalio.core`` logger instead of being
    written to stderr with colour codes.

    Returns:
        The pool name, validated. ``default`` is the base queue served by an
        extra foreground worker (no liveness lock, unlike the daemon's None).
    """
    from sagaflow._engine.meta import check_pool

    tag = f" [{build}]" if build else ""
    formatter = PlainFormatter(f"%(asctime)s %(levelname)s %(name)s{tag}: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[stderr])
    _forward_core_logs()
    if pool is None:
        return None
    check_pool(pool)
    handler = logging.FileHandler(home.logs / f"worker-{pool}-{os.getpid()}.log", encoding="utf-8")
    handler.setFormatter(formatter)
    logging.getLogger().addHandler(handler)
    return pool


def _forward_core_logs() -> None:
    """Route the Temporal core's own logs (WARN and up) through Python logging.

    By default the core writes them to stderr with ANSI colours; this must run
    before the first client is built (the runtime is chosen then).
    """
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    logs = LoggingConfig(TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding)
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=logs)),
                        error_if_already_set=False)


def _report(infos: list[SkillInfo]) -> None:
    for info in infos:
        if info.status == "error":
            log.error("%s", info.error)
        elif info.status == "ok":
            log.info("loaded skill %s from %s (%s)", info.name, info.dir, info.origin)


def _report_refused(home: Home, build: str) -> None:
    """Log the skill directories the naming rules kept out of this build (see daemon)."""
    import json

    try:
        refused = json.loads((buildstate.build_dir(home, build) / "refused.json").read_text("utf-8"))
    except (OSError, ValueError):
        return
    for directory, reason in refused:
        log.error("skill directory %s not in build %s: %s", directory, build, reason)


#: modules a step may need on its first call, imported at start (see :func:`warm_up`)
WARM_MODULES = ("sagaflow.models.structured", "sagaflow.models.scripted",
                "sagaflow.models.claude_cli")


def warm_up(api: bool) -> None:
    """Import what the first steps need and build the model client, in a worker thread.

    Run at start while the worker already polls: done on the event loop at the first
    model call, the SDK's import (over a second, several on a busy host) and the
    client's TLS setup would starve the heartbeats of every activity in flight.
    A step that arrives first waits for the import in a thread of its own (the
    import lock), never on the loop (see ``sagaflow.models.complete``).

    The collector is paused meanwhile and the result frozen (:func:`gc.freeze`): a
    full collection over the hundreds of thousands of objects the SDK's import
    creates holds the GIL for 0.2-0.9 s on a busy host (measured), with activities
    in flight; frozen, they are never traversed again.

    Args:
        api: Also import the Anthropic SDK and build the process's client.
    """
    gc.disable()
    try:
        for name in WARM_MODULES:
            importlib.import_module(name)
        if api:
            from sagaflow.models import anthropic_api

            anthropic_api.client()
        gc.freeze()
    finally:
        gc.enable()


async def run_worker(
    home: Home, settings: Settings, *, pool: str | None = None, max_concurrent: int | None = None,
    build: str | None = None,
) -> None:
    """Run until SIGTERM/SIGINT, or until an idle build worker retires (:mod:`.idle`).

    ``build`` (the daemon, ``worker run --build``) serves that build's snapshot as its
    version, holding the build's liveness lock; without ``pool`` or ``build`` the
    skills found from the working directory are snapshotted and served the same way
    in the foreground. Pool workers (``--pool``) load the skills found from their
    working directory and are unversioned: as many as wanted, on this host or others.

    Raises:
        BuildError: The build's snapshot is missing.
        WorkerError: Another worker serves this build already.
    """
    from sagaflow._engine import idle
    from sagaflow.skills import builds

    snapshot = None
    if pool is None:
        if build is None:
            build = builds.make(home, discover()[0]).id
        lock = buildstate.acquire_lock(home, build)
        snapshot = builds.open_build(home, build)
        loaded = load_skills(found=(snapshot.sources(), []))
    else:
        lock, loaded = None, load_skills()
    _report(loaded.infos)
    if build is not None and pool is None:
        _report_refused(home, build)
    client = await connect(settings)
    await ensure_registered(client, client.namespace)
    worker = build_worker(client, home, settings, loaded, pool=pool,
                          max_concurrent=max_concurrent, build=build if pool is None else None)
    pool_lock = PoolLock(home, pool or DEFAULT_POOL)  # "is a worker of this pool alive here?"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker pid %s polling %s on %s/%s%s",
        os.getpid(), pool_queue(settings.task_queue, pool), settings.address, settings.namespace,
        f" as build {build}" if pool is None else "",
    )
    gc.freeze()  # what start-up loaded (temporalio, skills) stays out of full collections
    running = asyncio.create_task(worker.run())
    watching = None
    if pool is None:  # the daemon writes BLOCKED inbox entries for runs a code change blocks
        from sagaflow._engine.blocked import watch

        watching = asyncio.create_task(watch(client, home, settings.task_queue))
    warming = loop.run_in_executor(None, warm_up, has_api_key())
    if snapshot is not None:  # the sandbox re-imports skills per run: no compiling each time
        from sagaflow.skills.bytecode import compile_build

        loop.run_in_executor(None, compile_build, snapshot.root)
    watcher = None
    if build is not None and pool is None:
        await idle.wait_until_known(client, settings.task_queue, build, running)
        buildstate.write_state(
            home, build, daemon.expected_fingerprint(settings, build), settings,
            [i.__dict__ | {"dir": str(i.dir)} for i in loaded.infos],
        )
        watcher = asyncio.create_task(
            idle.retire_when_idle(client, home, settings.task_queue, build,
                                  settings.worker_idle_seconds, stop)
        )
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
    warming.cancel()
    for task in (watcher, watching):
        if task is not None:
            task.cancel()
    if lock is not None:
        buildstate.release_lock(lock)
    if running in done:
        stopper.cancel()
        pool_lock.release()
        running.result()
        return
    log.info("stopping: draining in-flight activities (up to %ss)", settings.worker_shutdown_seconds)
    await worker.shutdown()
    await running
    pool_lock.release()
    log.info("worker stopped")
