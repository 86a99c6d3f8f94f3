"""Scheduled skill runs on Temporal Schedules (client side).

A sagaflow schedule is the Temporal Schedule ``sagaflow-<NAME>``; its action
starts :data:`sagaflow._engine.scheduled.WORKFLOW_NAME` on the pool's task
queue, which prepares and starts one normal sagaflow run per firing (see that
module). The schedule's memo records what sagaflow needs to list it (skill,
arguments, cron, pool, base task queue); its spec, policy and state are read
from Temporal itself. Only schedules whose id has the prefix and whose memo
names this installation's base task queue are listed.

Deleting a schedule leaves runs it already started alone.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagaflow._engine import daemon, meta
from sagaflow._engine.scheduled import started_run, why_not_started
from sagaflow.config import Settings
from sagaflow.errors import SagaflowError, TemporalError, UsageError
from sagaflow.paths import Home, check_name
from sagaflow.runs import missing, schedule_spec
from sagaflow.runs.launch import LaunchOptions, check_pool_served, launch_options
from sagaflow.timestamps import iso as _iso

if TYPE_CHECKING:
    from temporalio.client import Client, ScheduleDescription, ScheduleHandle

PREFIX = "sagaflow-"
OVERLAPS = {"skip": "SKIP", "buffer": "BUFFER_ONE", "allow": "ALLOW_ALL"}


class ScheduleNotFoundError(TemporalError):
    """No sagaflow schedule has that name."""

    retryable = False


@dataclass
class ScheduleRequest:
    """What ``sagaflow schedule add`` asks for."""

    name: str
    skill: str
    cron: str
    args: dict[str, str] = field(default_factory=dict)
    overlap: str = "skip"
    pool: str | None = None
    budget_usd: str | None = None
    timeout: str | None = None
    time_zone: str | None = None
    #: the model transport of every run (None: the worker's configured one)
    transport: str | None = None
    #: pool, budget and timeout as ``launch`` validates them (set by :func:`check_request`)
    options: LaunchOptions = field(default_factory=LaunchOptions)


def schedule_id(name: str) -> str:
    """The Temporal schedule id of a sagaflow schedule name.

    Raises:
        UsageError: ``name`` is not a usable schedule name (every command that names a
            schedule passes through here).
    """
    return PREFIX + check_name(name, "Schedule name", 100)


def check_request(req: ScheduleRequest) -> ScheduleRequest:
    """Validate everything that needs neither skills nor Temporal; fills the time zone.

    The cron expression itself is checked by Temporal when the schedule is created
    (:func:`sagaflow.runs.schedule_spec.refusal` words its verdict).
    """
    check_name(req.name, "Schedule name", 100)
    req.cron = schedule_spec.normalize(req.cron)  # Temporal checks the grammar at creation
    req.time_zone = (schedule_spec.check_zone(req.time_zone) if req.time_zone
                     else schedule_spec.local_zone())
    if req.overlap not in OVERLAPS:
        raise UsageError(f"Unknown --overlap {req.overlap!r}; use skip, buffer or allow.")
    req.options = launch_options(req.pool, req.budget_usd, req.timeout)
    if req.transport is not None:
        from sagaflow.config import TRANSPORTS

        req.transport = req.transport.lower()
        if req.transport not in TRANSPORTS:
            raise UsageError(
                f"Unknown --transport {req.transport!r}; use one of {', '.join(TRANSPORTS)}."
            )
    return req


def _check_skill(settings: Settings, loaded: Any, req: ScheduleRequest) -> None:
    """Run launch's own validation (build and discard) in a throwaway home."""
    from sagaflow.skills.prepare import prepare

    with tempfile.TemporaryDirectory(prefix="sagaflow-schedule-check-") as tmp:
        prepare(Home(Path(tmp)), settings, loaded, req.skill, dict(req.args),
                transport=req.transport)


async def _describe(client: Client, name: str) -> ScheduleDescription:
    with missing.not_found_as(lambda: ScheduleNotFoundError(
        f"No schedule {name!r}; see the names with 'sagaflow schedule list'."
    )):
        return await client.get_schedule_handle(schedule_id(name)).describe()


def _schedule(settings: Settings, req: ScheduleRequest) -> tuple[Any, dict[str, Any]]:
    """The Temporal Schedule for ``req`` and the memo listing reads back."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
        ScheduleState,
    )

    from sagaflow._engine.scheduled import MEMO_KEY, WORKFLOW_NAME, ScheduledRunInput

    opts = req.options
    fixed = ScheduledRunInput(
        schedule=req.name, skill=req.skill, base_queue=settings.task_queue, args=req.args,
        pool=opts.pool, budget_usd=opts.budget_usd, timeout_seconds=opts.timeout_seconds,
        transport=req.transport,
    )
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WORKFLOW_NAME, fixed, id=schedule_id(req.name),
            task_queue=meta.pool_queue(settings.task_queue, opts.pool),
            memo={MEMO_KEY: {"schedule": req.name, "skill": req.skill}},
        ),
        spec=ScheduleSpec(cron_expressions=[req.cron], time_zone_name=req.time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy[OVERLAPS[req.overlap]]),
        state=ScheduleState(note=f"created by sagaflow for skill {req.skill}"),
    )
    memo = {
        "name": req.name, "skill": req.skill, "args": req.args, "cron": req.cron,
        "time_zone": req.time_zone, "overlap": req.overlap, "pool": opts.pool or meta.DEFAULT_POOL,
        "base_queue": settings.task_queue, "budget_usd": opts.budget_usd,
        "timeout_seconds": opts.timeout_seconds, "transport": req.transport,
    }
    return schedule, {MEMO_KEY: memo}


async def _serve_current(
    client: Client, home: Home, settings: Settings, sources: Any, notice: Callable[[str], None]
) -> None:
    """Serve this directory's build and make it current: a schedule's firings start on the
    build current when they fire (and stay pinned to it), see the README's "Builds"."""
    from sagaflow._engine import versioning

    build, _pid, _action = daemon.serve_build(home, settings, sources, notice)
    await versioning.make_current(client, home, settings.task_queue, build.id)


async def add(
    home: Home, settings: Settings, req: ScheduleRequest,
    notice: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Validate, make sure server and worker are up, then create the schedule."""
    from temporalio.client import ScheduleAlreadyRunningError
    from temporalio.service import RPCError, RPCStatusCode

    from sagaflow._engine.client import ensure_temporal
    from sagaflow.skills.discovery import load_skills

    check_request(req)
    loaded = load_skills()
    _check_skill(settings, loaded, req)
    client = await ensure_temporal(settings)
    exists = UsageError(f"A schedule named {req.name!r} already exists; remove it with "
                        f"'sagaflow schedule rm {req.name}' or pick another name.")
    try:
        await _describe(client, req.name)
        raise exists
    except ScheduleNotFoundError:
        pass
    await _serve_current(client, home, settings, loaded.sources, notice)
    if req.options.pool:
        await check_pool_served(client, settings, req.options.pool, home)
    schedule, memo = _schedule(settings, req)
    try:
        await client.create_schedule(schedule_id(req.name), schedule, memo=memo)
    except ScheduleAlreadyRunningError:
        raise exists from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.INVALID_ARGUMENT:
            raise
        raise schedule_spec.refusal(req.cron, exc.message) from None
    return await show(client, req.name, runs=False)


def _overlap_name(policy: Any) -> str:
    by_enum = {v: k for k, v in OVERLAPS.items()}
    return by_enum.get(str(policy.name), str(policy.name).lower())


def _started(action: Any) -> tuple[str | None, str | None]:
    """Workflow id and first run id of a schedule's action execution (None for other kinds)."""
    from temporalio.client import ScheduleActionExecutionStartWorkflow

    if isinstance(action, ScheduleActionExecutionStartWorkflow):
        return action.workflow_id, action.first_execution_run_id
    return None, None


def _recent(result: Any) -> dict[str, Any]:
    workflow_id, run_id = _started(result.action)
    return {"scheduled_at": _iso(result.scheduled_at), "started_at": _iso(result.started_at),
            "workflow_id": workflow_id, "workflow_run_id": run_id}


async def _summary(desc: ScheduleDescription) -> dict[str, Any]:
    from sagaflow._engine.scheduled import MEMO_KEY

    memo = (await desc.memo()).get(MEMO_KEY) or {}
    state, info = desc.schedule.state, desc.info
    return {
        "name": memo.get("name") or desc.id.removeprefix(PREFIX),
        "schedule_id": desc.id,
        "skill": memo.get("skill"),
        "args": memo.get("args") or {},
        "cron": memo.get("cron"),
        "time_zone": desc.schedule.spec.time_zone_name or "UTC",
        "overlap": _overlap_name(desc.schedule.policy.overlap),
        "pool": memo.get("pool") or meta.DEFAULT_POOL,
        "paused": state.paused,
        "note": state.note,
        "next_runs": [_iso(t) for t in info.next_action_times[:3]],
        "recent": [_recent(a) for a in info.recent_actions],
        "budget_usd": memo.get("budget_usd"),
        "timeout_seconds": memo.get("timeout_seconds"),
        "transport": memo.get("transport"),
        "task_queue": memo.get("base_queue"),
    }


async def list_all(client: Client, settings: Settings) -> list[dict[str, Any]]:
    """This installation's schedules by name; each one described (visibility only finds them)."""
    from temporalio.service import RPCError

    try:  # servers without schedule queries list everything; the prefix filter below copes
        listed = [s.id async for s in await client.list_schedules(f"ScheduleId STARTS_WITH '{PREFIX}'")]
    except RPCError:
        listed = [s.id async for s in await client.list_schedules()]

    async def row(sid: str) -> dict[str, Any] | None:
        try:
            return await _summary(await _describe(client, sid.removeprefix(PREFIX)))
        except ScheduleNotFoundError:  # deleted since it was listed
            return None

    found = await asyncio.gather(*(row(i) for i in sorted(listed) if i.startswith(PREFIX)))
    return [r for r in found if r and r["skill"] and r["task_queue"] == settings.task_queue]


async def show(client: Client, name: str, *, runs: bool = True) -> dict[str, Any]:
    """One schedule: its summary, spec, counters and the runs it started."""
    desc = await _describe(client, name)
    data = await _summary(desc)
    spec = desc.schedule.spec
    data["spec"] = {
        "calendars": [schedule_spec.describe_calendar(c) for c in spec.calendars],
        "intervals": [f"every {int(i.every.total_seconds())}s" for i in spec.intervals],
    }
    data["actions"] = desc.info.num_actions
    data["skipped_overlap"] = desc.info.num_actions_skipped_overlap
    data["created"] = _iso(desc.info.created_at)
    if runs:
        found = await asyncio.gather(
            *(started_run(client, r["workflow_id"], r["workflow_run_id"])
              for r in data["recent"] if r["workflow_id"])
        )
        for row, run in zip(data["recent"], found, strict=False):
            row.update(run)
        data["runs"] = list(reversed(data["recent"]))
    return data


async def set_paused(client: Client, name: str, paused: bool, note: str | None) -> dict[str, Any]:
    """Pause or unpause; doing either twice is an error."""
    desc = await _describe(client, name)
    handle: ScheduleHandle = client.get_schedule_handle(desc.id)
    if desc.schedule.state.paused == paused:
        verb = "paused" if paused else "running"
        fix = f"'sagaflow schedule unpause {name}'" if paused else f"'sagaflow schedule pause {name}'"
        raise UsageError(f"Schedule {name!r} is already {verb}; nothing changed ({fix} does the opposite).")
    if paused:
        await handle.pause(note=note or "paused with sagaflow schedule pause")
    else:
        await handle.unpause(note=note or "unpaused with sagaflow schedule unpause")
    return await show(client, name, runs=False)


async def remove(client: Client, name: str) -> dict[str, Any]:
    """Delete the schedule (runs it started keep going)."""
    desc = await _describe(client, name)
    await client.get_schedule_handle(desc.id).delete()
    return {"name": name, "schedule_id": desc.id, "removed": True}


async def trigger(
    home: Home, settings: Settings, name: str, *, overlap: str | None = None,
    wait_seconds: float = 20.0, notice: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Fire the schedule now and return the run id it started (when it starts in time)."""
    from temporalio.client import ScheduleOverlapPolicy

    from sagaflow._engine.client import ensure_temporal
    from sagaflow.skills.discovery import load_skills

    if overlap is not None and overlap not in OVERLAPS:
        raise UsageError(f"Unknown --overlap {overlap!r}; use skip, buffer or allow.")
    client = await ensure_temporal(settings)
    before = await _describe(client, name)
    await _serve_current(client, home, settings, load_skills().sources, notice)
    policy = ScheduleOverlapPolicy[OVERLAPS[overlap]] if overlap else None
    await client.get_schedule_handle(before.id).trigger(overlap=policy)
    out: dict[str, Any] = {"name": name, "triggered": True, "skipped": False,
                           "workflow_id": None, "run_id": None}
    deadline, delay = time.monotonic() + wait_seconds, 0.05
    while time.monotonic() < deadline:
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)
        info = (await _describe(client, name)).info
        if info.num_actions_skipped_overlap > before.info.num_actions_skipped_overlap:
            out["skipped"] = True
            return out
        if info.num_actions <= before.info.num_actions or not info.recent_actions:
            continue
        fired = info.recent_actions[-1].action
        out["workflow_id"], run = _started(fired)
        found = await started_run(client, out["workflow_id"], run)
        out["run_id"] = found["run_id"]
        if found["run_id"]:
            return out
        if found["status"] not in ("running", "unknown"):
            reason = await why_not_started(client, out["workflow_id"], run)
            raise SagaflowError(
                f"Schedule {name} fired but no run started ({reason}); "
                f"'sagaflow inbox' has it as {out['workflow_id']}."
            )
    return out

