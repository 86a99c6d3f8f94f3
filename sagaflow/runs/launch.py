"""The whole of ``sagaflow launch`` as one library call."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagaflow._engine import daemon, versioning
from sagaflow._engine.client import (
    Target,
    connect_to,
    ensure_temporal,
    explain_failure,
    resolve,
    server_to_start,
)
from sagaflow.config import Settings
from sagaflow.errors import HookError
from sagaflow.locks import exclusive
from sagaflow.paths import Home
from sagaflow.runrecord import check_run_id
from sagaflow.runs import lintcache
from sagaflow.runs import start as runs
from sagaflow.skills import builds
from sagaflow.skills.discovery import load_skills
from sagaflow.skills.prepare import prepare

HOOK_MARKER = "hook-offered"


@dataclass(frozen=True)
class LaunchOptions:
    """How to run it: pool, budget, whole-run timeout, what an existing id means, and
    whether a new build's skill is linted first (:func:`sagaflow.runs.lint.launch_gate`)."""

    pool: str | None = None
    budget_usd: float | None = None
    timeout_seconds: float | None = None
    if_exists: str | None = None
    lint: bool = True


def launch_options(
    pool: str | None = None, budget_usd: str | None = None, timeout: str | None = None,
    if_exists: str | None = None, *, lint: bool = True,
) -> LaunchOptions:
    """Validate the raw option values (before anything is started or written)."""
    import math

    from sagaflow._engine.meta import DEFAULT_POOL, check_pool
    from sagaflow.durations import parse_duration
    from sagaflow.errors import UsageError

    budget: float | None = None
    if budget_usd is not None:
        try:
            budget = float(budget_usd)
        except ValueError:
            budget = math.nan
        if not math.isfinite(budget) or budget <= 0:
            raise UsageError(
                f"--budget-usd {budget_usd!r} must be a positive amount in US dollars, like 2.00."
            )
    if if_exists is not None and if_exists not in runs.IF_EXISTS:
        raise UsageError(
            f"--if-exists {if_exists!r} is not one of {', '.join(runs.IF_EXISTS)}."
        )
    if pool is not None:
        check_pool(pool)
    return LaunchOptions(
        pool=None if pool in (None, DEFAULT_POOL) else pool,
        budget_usd=budget,
        timeout_seconds=parse_duration(timeout, option="--timeout") if timeout else None,
        if_exists=if_exists, lint=lint,
    )


async def check_pool_served(client: Any, settings: Settings, pool: str, home: Home) -> None:
    """A pool is served when a worker of it is alive now (:func:`pools.pool_status`: this
    host's pool locks, or a poller seen within the last 90 s). Temporal keeps a dead
    worker in its poller list for minutes, so "some poller is listed" would start runs
    that then sit "running" with nobody to run them.

    Raises:
        UsageError: no live worker serves the pool (the message says since when and how
            to start one).
    """
    from sagaflow._engine.meta import DEFAULT_POOL
    from sagaflow.errors import UsageError
    from sagaflow.runs.pools import pool_status

    status = await pool_status(client, settings, home, pool)
    if status.serving:
        return
    start = ("'sagaflow worker start'" if pool == DEFAULT_POOL
             else f"'sagaflow worker run --pool {pool}'")
    if status.last_seen is None:
        raise UsageError(
            f"Unknown pool {pool!r}: no worker serves task queue {status.task_queue}; start one "
            f"with {start} (here or on any host using this Temporal)."
        )
    raise UsageError(
        f"No worker serves pool {pool!r} any more (none polling since {status.last_seen}); "
        f"start one with {start} (here or on any host using this "
        "Temporal), then launch again."
    )


def _skill_dir(build: builds.Build | None, found: str) -> str:
    """Where the run's worker finds the skill's files: its directory in the build's snapshot."""
    if build is None or not found:
        return found
    return str(build.skill_dir(Path(found).name))


def _worker_serves(home: Home, target: Target) -> bool:
    """Whether a live build worker of this home serves the address and namespace launch targets.

    Its start checked that namespace (it connects with the check and registers search
    attributes before it records itself), so launch skips the check's round trip; any
    other case (no live worker, another target) checks before a worker is started.
    """
    from sagaflow._engine import buildstate

    for build in buildstate.live_workers(home):
        state = buildstate.read_state(home, build) or {}
        if (state.get("address"), state.get("namespace")) == (target.address, target.namespace):
            return True
    return False


@dataclass
class LaunchOutcome:
    run_id: str
    skill: str
    transport: str
    started: bool
    waited: bool = False
    result: Any = None


def offer_hook(home: Home, notice: Callable[[str], None]) -> None:
    """Install the SessionStart hook on the first launch (once per home)."""
    marker = home.root / HOOK_MARKER
    if os.environ.get("SAGAFLOW_NO_HOOK") == "1" or marker.exists():
        return
    from sagaflow import hook

    try:
        change = hook.install(home)
        if change.changed:
            notice(f"{change.message} ('sagaflow hook uninstall' removes it; "
                   "SAGAFLOW_NO_HOOK=1 skips this)")
    except HookError as exc:
        notice(f"warning: {exc.message}")
    marker.write_text("1", encoding="utf-8")


#: explicit run ids share this many launch lock files (see :func:`launch_lock_path`)
LAUNCH_LOCK_STRIPES = 64


def launch_lock_path(home: Home, run_id: str) -> Path:
    """The lock file launches of ``run_id`` take turns on: ``runs/.launch-<nn>.lock``.

    One file per id would stay behind for every id ever launched (a lock file cannot
    be removed safely while another process may have it open), so ids share
    :data:`LAUNCH_LOCK_STRIPES` files by a hash of the id: the files are bounded, and
    two launches of different ids rarely wait on each other (only while the first
    starts its run). A run id never starts with a dot, so no run directory clashes.
    """
    import zlib  # here: only a launch with an explicit id needs it

    stripe = zlib.crc32(run_id.encode("utf-8")) % LAUNCH_LOCK_STRIPES
    return home.runs / f".launch-{stripe:02d}.lock"


@contextlib.asynccontextmanager
async def claimed(home: Home, run_id: str | None) -> AsyncIterator[None]:
    """Hold this home's launch lock for ``run_id`` (a generated id needs none: its
    directory is claimed exclusively).

    Held from reading ``run.json`` until Temporal has the run, so concurrent launches
    of one id take turns: the first writes the record and starts the run, the next
    finds both and attaches (or fails, per ``--if-exists``). The lock file is
    :func:`launch_lock_path`; the kernel drops the lock if the process dies.
    """
    if run_id is None:
        yield
        return
    check_run_id(run_id)
    with contextlib.ExitStack() as stack:
        # flock blocks: wait in a thread, so the loop (and the other launch) go on
        await asyncio.to_thread(stack.enter_context, exclusive(launch_lock_path(home, run_id)))
        yield


async def launch(
    home: Home,
    settings: Settings,
    skill: str,
    args: dict[str, str],
    *,
    run_id: str | None = None,
    transport: str | None = None,
    wait: bool = False,
    notice: Callable[[str], None] = lambda _msg: None,
    progress: Callable[[str], None] | None = None,
    on_started: Callable[[str], None] = lambda _rid: None,
    options: LaunchOptions | None = None,
) -> LaunchOutcome:
    """Validate, make sure server and worker are up, start or attach, maybe await."""
    options = options or LaunchOptions()
    home.ensure(home.runs, home.logs)
    target = resolve(settings)
    check_namespace = options.pool is not None or not _worker_serves(home, target)
    # Connect now when Temporal already answers: the connection's round trips then overlap
    # loading the skill and preparing the run (about 5 ms of each launch). It is awaited
    # only after them, so their errors still come first; a server to start waits for them.
    early: asyncio.Future[Any] | None = None
    if not server_to_start(settings, target):
        early = asyncio.ensure_future(
            connect_to(target, settings, check_namespace=check_namespace))
        await asyncio.sleep(0)  # let it send its first request before the work below
    try:
        return await _launch(
            home, settings, skill, args, run_id=run_id, transport=transport, wait=wait,
            notice=notice, progress=progress, on_started=on_started, options=options,
            connecting=early, check_namespace=check_namespace,
        )
    finally:
        if early is not None and not early.done():
            early.cancel()
        if early is not None:
            with contextlib.suppress(BaseException):  # consumed: no "never retrieved" warning
                await early


async def _launch(
    home: Home, settings: Settings, skill: str, args: dict[str, str], *, run_id: str | None,
    transport: str | None, wait: bool, notice: Callable[[str], None],
    progress: Callable[[str], None] | None, on_started: Callable[[str], None],
    options: LaunchOptions, connecting: asyncio.Future[Any] | None, check_namespace: bool,
) -> LaunchOutcome:
    """:func:`launch` once the connection is under way (``connecting``, or None: connect here)."""
    from sagaflow._engine.meta import DEFAULT_POOL, RunConfig, RunOptions, memo_for, pool_queue
    from sagaflow.runs.payload_size import check_start_size

    loaded = load_skills(only=skill)
    async with claimed(home, run_id):
        prepared = prepare(
            home, settings, loaded, skill, args, run_id=run_id, transport=transport,
            replace_existing=options.if_exists == "replace",
            task_queue=pool_queue(settings.task_queue, options.pool),
        )
        if not prepared.attach:  # an activity name nobody serves: refuse now, not hang later
            from sagaflow._engine.activity_check import check_launch

            check_launch(loaded, prepared.record.skill)
        offer_hook(home, notice)
        client = None
        try:
            client = await (connecting if connecting is not None
                            else ensure_temporal(settings, check_namespace=check_namespace))
            build = None if options.pool is not None or prepared.attach else \
                builds.make(home, loaded.sources)
            if build is not None and options.lint and not lintcache.linted(
                    home, build.id, prepared.record.skill):  # once per build and skill
                from sagaflow.runs.lint import launch_gate

                launch_gate(home, build.id, loaded, prepared.record.skill, notice)
            memo_options = RunOptions(
                base_queue=settings.task_queue, pool=options.pool or DEFAULT_POOL,
                budget_usd=options.budget_usd, timeout_seconds=options.timeout_seconds,
                step_timeouts=settings.step_timeouts_for(skill),
                config=RunConfig.from_settings(
                    settings, prepared.record.transport, _skill_dir(build, prepared.record.skill_dir),
                    workspace=os.getcwd(),  # tools_needed steps' workspace
                ),
            )
            if not prepared.attach:
                await check_start_size(
                    client.data_converter, prepared.run_id, prepared.workflow_input,
                    memo_for(prepared.record.skill, prepared.record.args, memo_options),
                    prepared.record.args,
                )
            override = None
            if build is not None:
                daemon.serve_build(home, settings, notice=notice, build=build)
                await versioning.make_current(client, home, settings.task_queue, build.id)
                override = versioning.pinned(settings.task_queue, build.id)
            elif prepared.attach:
                from sagaflow.runs.reach import Local, ensure_worker

                desc = await runs.describe(client.get_workflow_handle(prepared.run_id))
                await ensure_worker(desc, Local(home, settings, notice))
            else:
                await check_pool_served(client, settings, options.pool or DEFAULT_POOL, home)
            handle, fresh = await versioning.start_when_known(lambda: runs.start(
                client, settings, prepared, options=memo_options, if_exists=options.if_exists,
                home=home, versioning_override=override,
            ))
        except BaseException as exc:
            if prepared.created:  # a start that failed leaves no run directory behind
                import shutil

                shutil.rmtree(home.run_dir(prepared.run_id), ignore_errors=True)
            if client is not None and isinstance(exc, Exception):
                await explain_failure(client, settings)  # a missing namespace says so
            raise
    if not fresh:
        notice(f"attached to open run {prepared.run_id}")
    on_started(prepared.run_id)
    outcome = LaunchOutcome(prepared.run_id, skill, prepared.record.transport, fresh)
    if wait:
        outcome.result = await runs.await_result(
            handle, progress, on_gate=notice if progress is not None else None
        )
        outcome.waited = True
    return outcome
