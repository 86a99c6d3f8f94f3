"""``sagaflow replay-check SKILL``: would the code on disk still run this skill's runs?

Each run's history (its open runs and its last N closed ones) is replayed with
temporalio's :class:`~temporalio.worker.Replayer`, configured by the same
:class:`~sagaflow._engine.plugin.SagaflowPlugin` as the worker, against the skills
loaded from the working directory now. A run is *compatible* when its history
replays without a nondeterminism error; otherwise the first divergence is
reported (the history event, what the history holds, what the code now issues).

``upgrade`` (:mod:`sagaflow.runs.upgrade`) replays with the same
:func:`replayer_for` and :func:`check_histories`, but with the skills loaded from
the target build's snapshot (the code that build's worker will run), not the
live skill directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from sagaflow._engine import meta
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.worker import collect
from sagaflow.config import Settings
from sagaflow.errors import SkillLoadError, UnknownSkillError
from sagaflow.paths import Home
from sagaflow.runs.divergence import INNER_MESSAGE, divergence
from sagaflow.runs.listing import quote, scope_clause
from sagaflow.skills.discovery import LoadedSkills, load_skills

#: seconds one replay may take before it counts as hung (a replay takes milliseconds)
REPLAY_TIMEOUT = 30.0
#: histories fetched at once
FETCH_CONCURRENCY = 8

@dataclass
class RunCheck:
    """The verdict on one run (``replay-check --json`` prints these as objects).

    Attributes:
        run_id: sagaflow's run id (the workflow id).
        temporal_run_id: The Temporal run replayed.
        status: ``running``, ``completed``, ``failed``... (``unknown`` for a given history).
        compatible: True, False, or None when the replay could not decide (hung, error).
        event_id: The history event where the code diverged.
        expected: What the history holds there (an event type or activity name).
        found: What the code on disk issues instead (a command), when the error says.
        detail: Temporal's message, one line.
    """

    run_id: str
    temporal_run_id: str
    status: str
    compatible: bool | None
    event_id: int | None = None
    expected: str | None = None
    found: str | None = None
    detail: str = ""

    def line(self) -> str:
        """``<run> <status>: compatible`` or its first divergence, one line."""
        head = f"{self.run_id} ({self.status})"
        if self.compatible:
            return f"{head}: compatible"
        if self.compatible is None:
            return f"{head}: not checked: {self.detail}"
        where = f" at event {self.event_id}" if self.event_id is not None else ""
        what = ""
        if self.expected or self.found:
            what = (f": history has {self.expected or '?'}, "
                    f"the code now issues {self.found or 'no matching command'}")
        return f"{head}: incompatible{where}{what} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def skill_loaded(loaded: LoadedSkills, skill: str) -> None:
    """Refuse a skill the working directory does not load cleanly.

    Raises:
        UnknownSkillError: No skill of that name on the search path (with close matches).
        SkillLoadError: The skill is found but does not load (its reason).
    """
    if loaded.registry.get(skill) is not None:
        return
    broken = [i for i in loaded.infos if i.name == skill and i.status == "error"]
    if broken:
        raise SkillLoadError(f"{broken[0].error} Its runs cannot be checked until it loads.")
    names = sorted({i.name for i in loaded.infos})
    near = difflib.get_close_matches(skill, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(near)}?" if near else ""
    raise UnknownSkillError(
        f"Unknown skill {skill!r}: its code is not on the skill search path from {Path.cwd()}, "
        f"so its runs cannot be checked.{hint} Run 'sagaflow skills' for the list."
    )


def run_query(base_queue: str, skill: str, *, open_runs: bool) -> str:
    """The visibility query for the skill's open (or closed) runs of this home."""
    status = "ExecutionStatus = 'Running'" if open_runs else "ExecutionStatus != 'Running'"
    return (f"{scope_clause(base_queue)} AND WorkflowType != '{meta.SCHEDULED_WORKFLOW}' "
            f"AND {meta.SA_SKILL} = {quote(skill, 'SKILL')} AND {status}")


async def skill_histories(
    client: Client, settings: Settings, skill: str, last: int
) -> list[tuple[str, WorkflowHistory]]:
    """``(status, history)`` of every open run of ``skill`` and its ``last`` closed ones."""
    from sagaflow.runs.listing import executions

    listed = [wf async for wf in executions(
        client, run_query(settings.task_queue, skill, open_runs=True), None)]
    if last > 0:
        listed += [wf async for wf in executions(
            client, run_query(settings.task_queue, skill, open_runs=False), last)]
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def fetch(wf: Any) -> tuple[str, WorkflowHistory]:
        async with gate:
            history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        return (wf.status.name.lower() if wf.status else "unknown"), history

    return list(await asyncio.gather(*(fetch(wf) for wf in listed)))


_QUIET: list[Any] = []


def quiet_runtime() -> Any:
    """A Temporal runtime whose core logs go to the ``temporalio.core`` logger at ERROR.

    The core writes a WARN line to stdout for every nondeterminism error it meets;
    a replay that looks for them would otherwise print each twice. One per process.
    """
    if not _QUIET:
        import logging

        from temporalio.runtime import (
            LogForwardingConfig,
            LoggingConfig,
            Runtime,
            TelemetryConfig,
            TelemetryFilter,
        )

        forward = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
        logs = LoggingConfig(TelemetryFilter(core_level="ERROR", other_level="ERROR"), forward)
        _QUIET.append(Runtime(telemetry=TelemetryConfig(logging=logs)))
    return _QUIET[0]


def replayer_for(home: Home, settings: Settings, loaded: LoadedSkills) -> Replayer:
    """A Replayer of every loaded skill's workflow, set up exactly like the worker."""
    workflows, _, names = collect(loaded)
    return Replayer(workflows=workflows, runtime=quiet_runtime(),
                    plugins=[SagaflowPlugin(home, settings, names, loaded=loaded)])


def _first_run_id(history: WorkflowHistory) -> str:
    first = history.events[0] if history.events else None
    return (first.workflow_execution_started_event_attributes.original_execution_run_id
            if first is not None else "")


def verdict(history: WorkflowHistory, status: str, failure: BaseException | None) -> RunCheck:
    """The :class:`RunCheck` for a replay that ended with ``failure`` (None: it replayed)."""
    from temporalio.workflow import NondeterminismError

    check = RunCheck(history.workflow_id, _first_run_id(history), status, True)
    if failure is None:
        return check
    text = str(failure)
    inner = INNER_MESSAGE.search(text)  # the core wraps its message in a Rust debug dump
    message = one_line(inner.group(1) if inner else text)
    if not isinstance(failure, NondeterminismError):
        check.compatible, check.detail = None, f"{type(failure).__name__}: {message}"
        return check
    check.compatible, check.detail = False, message
    check.event_id, check.expected, check.found = divergence(message)
    return check


async def check_history(
    replayer: Replayer, history: WorkflowHistory, status: str = "unknown", *,
    timeout: float = REPLAY_TIMEOUT,
) -> RunCheck:
    """Replay one history on its own; never raises for what the replay finds."""
    try:
        result = await asyncio.wait_for(
            replayer.replay_workflow(history, raise_on_replay_failure=False), timeout)
    except TimeoutError:
        check = RunCheck(history.workflow_id, _first_run_id(history), status, None)
        check.detail = f"the replay did not finish in {timeout:g}s"
        return check
    except Exception as exc:  # a history this code cannot even start (unknown workflow...)
        check = RunCheck(history.workflow_id, _first_run_id(history), status, None)
        check.detail = one_line(f"{type(exc).__name__}: {exc}")
        return check
    return verdict(history, status, result.replay_failure)


async def check_histories(
    replayer: Replayer, pairs: Sequence[tuple[str, WorkflowHistory]], *,
    timeout: float = REPLAY_TIMEOUT,
) -> list[RunCheck]:
    """Replay many histories on one replay worker (about 10x cheaper than one each).

    Each replay still gets ``timeout`` seconds; after a hang or an error of the
    batch itself, the histories not yet replayed are checked one by one.
    """

    async def feed() -> Any:
        for _, history in pairs:
            yield history

    done: dict[int, RunCheck] = {}
    statuses = {id(h): status for status, h in pairs}
    manager = replayer.workflow_replay_iterator(feed())
    # a hang, a history the batch cannot start, a replay worker that will not stop: the
    # histories without a verdict yet are checked one by one below
    with contextlib.suppress(Exception):
        try:
            stream = await manager.__aenter__()
            results = stream.__aiter__()
            for _ in pairs:
                result = await asyncio.wait_for(results.__anext__(), timeout)
                done[id(result.history)] = verdict(
                    result.history, statuses.get(id(result.history), "unknown"),
                    result.replay_failure)
        finally:
            await asyncio.wait_for(manager.__aexit__(None, None, None), timeout)
    return [done.get(id(h)) or await check_history(replayer, h, status, timeout=timeout)
            for status, h in pairs]


async def replay_check(
    client: Client | None, home: Home, settings: Settings, skill: str, *,
    last: int = 5, loaded: LoadedSkills | None = None,
    histories: Sequence[WorkflowHistory] | None = None, timeout: float = REPLAY_TIMEOUT,
) -> list[RunCheck]:
    """Replay the skill's runs against the code on disk; one :class:`RunCheck` per run.

    Args:
        client: Where the runs are (unused when ``histories`` is given).
        skill: The skill whose runs to check, as loaded from the working directory.
        last: How many of its closed runs, most recent first, to check too.
        loaded: The skills to replay with (default: loaded from the working directory).
        histories: Check these histories instead of listing the skill's runs.
        timeout: Seconds per replay before it counts as hung.

    Returns:
        Open runs first, then closed ones; empty when the skill has no runs.

    Raises:
        UnknownSkillError, SkillLoadError: see :func:`skill_loaded`.
        TemporalError: the server rejected the run query.
    """
    loaded = loaded or load_skills()
    skill_loaded(loaded, skill)
    if histories is not None:
        pairs = [("unknown", h) for h in histories]
    else:
        assert client is not None, "replay_check needs a client or histories"
        pairs = await skill_histories(client, settings, skill, last)
    if not pairs:
        return []
    return await check_histories(replayer_for(home, settings, loaded), pairs, timeout=timeout)
