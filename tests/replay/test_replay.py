"""Committed histories of real runs replay on today's code.

A change to sagaflow's workflow-side code (interceptors, run control, helpers) or
to a test skill that would break runs already in flight fails here. The
histories come from scripts/record_histories.py (one per scenario of
scenarios.py); re-record them only for a change that is meant to break old runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from harness import Engine
from scenarios import SCENARIOS, run_id
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.plugin import SimplePlugin
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)
from temporalio.workflow import NondeterminismError

HISTORIES = Path(__file__).resolve().parents[1] / "histories"

#: what each history must show, so a re-recording cannot quietly lose its point
SHOWS: dict[str, set[str]] = {
    "hello-world": {"activity:spawn_subagent", "activity:emit_finding", "completed"},
    "gate-approved": {"update:sagaflow_decide", "local-activity", "completed"},
    "gate-rejected": {"update:sagaflow_decide", "failed"},
    "gate-timed-out": {"timer", "completed"},
    "run-timed-out": {"timer", "failed"},
    "scheduled": {"local-activity", "child", "completed"},
    "paused": {"update:sagaflow_pause", "update:sagaflow_decide", "completed"},
    "budget-extended": {"update:sagaflow_decide", "activity:spawn_subagent", "completed"},
    "signal": {"signal:manager_approval", "completed"},
    "saga-compensation": {"signal:manager_approval", "failed"},
    "cancelled": {"cancel-requested", "canceled"},
    "typed": {"activity:score_review", "completed"},
}


def history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(
        run_id(name), (HISTORIES / f"{name}.json").read_text(encoding="utf-8")
    )


def features(hist: WorkflowHistory) -> Counter[str]:
    seen: Counter[str] = Counter()
    for event in hist.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            seen[f"activity:{event.activity_task_scheduled_event_attributes.activity_type.name}"] += 1
        elif event.HasField("workflow_execution_update_accepted_event_attributes"):
            name = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            seen[f"update:{name}"] += 1
        elif event.HasField("workflow_execution_signaled_event_attributes"):
            seen[f"signal:{event.workflow_execution_signaled_event_attributes.signal_name}"] += 1
        elif event.HasField("timer_started_event_attributes"):
            seen["timer"] += 1
        elif event.HasField("marker_recorded_event_attributes"):
            seen["local-activity"] += 1
        elif event.HasField("workflow_execution_cancel_requested_event_attributes"):
            seen["cancel-requested"] += 1
        elif event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            seen["child"] += 1
        for end in ("completed", "failed", "canceled"):
            if event.HasField(f"workflow_execution_{end}_event_attributes"):
                seen[end] += 1
    return seen


def test_every_scenario_has_a_history() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(SCENARIOS)
    assert sorted(SHOWS) == sorted(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_history_shows_its_scenario(name: str) -> None:
    missing = SHOWS[name] - set(features(history(name)))
    assert not missing, f"{name}.json lacks {missing}; re-record it (scripts/record_histories.py)"


#: a replay takes a fraction of a second; one that runs this long has hung
REPLAY_TIMEOUT = 20.0


async def replay(engine: Engine, name: str, *, extra: Sequence[SimplePlugin] = (),
                 timeout: float = REPLAY_TIMEOUT) -> str | None:
    """Why ``name`` no longer replays on today's code, or None when it does.

    sagaflow's failure types leave a nondeterminism error a workflow-task failure,
    which the Replayer reports (with ``Exception`` among them, temporalio 1.35's
    Replayer hung instead); the timeout still turns a hang into a failure.
    """
    try:
        result = await asyncio.wait_for(
            engine.replayer(extra=extra).replay_workflow(
                history(name), raise_on_replay_failure=False),
            timeout)
    except TimeoutError:
        return f"replay hung ({timeout:g}s)"
    failure = result.replay_failure
    return None if failure is None else f"{type(failure).__name__}: {failure}"


def test_histories_replay_on_todays_code(engine: Engine) -> None:
    async def replay_all() -> dict[str, str]:
        outcomes = await asyncio.gather(*(replay(engine, name) for name in sorted(SCENARIOS)))
        return {name: why for name, why in zip(sorted(SCENARIOS), outcomes, strict=True) if why}

    failures = asyncio.run(replay_all())
    assert not failures, "histories no longer replay (runs in flight would break):\n" + "\n".join(
        f"  {name}: {why}" for name, why in failures.items()
    )


def test_runs_started_by_sagaflow_0_1_still_replay(engine: Engine) -> None:
    """tests/histories/v0.1/: runs recorded by sagaflow 0.1 (commit edc40be, before the
    plugin: activities read the environment, model steps return the old envelope).
    Never re-recorded: they stand for runs in flight during an upgrade."""

    async def replay_old(path: Path) -> str | None:
        old = WorkflowHistory.from_json(f"replay-v0.1-{path.stem}", path.read_text(encoding="utf-8"))
        result = await asyncio.wait_for(
            engine.replayer().replay_workflow(old, raise_on_replay_failure=False), REPLAY_TIMEOUT)
        return None if result.replay_failure is None else str(result.replay_failure)

    old = sorted((HISTORIES / "v0.1").glob("*.json"))
    assert [p.stem for p in old] == ["hello-world"]
    assert asyncio.run(replay_old(old[0])) is None


class _TimerFirst(Interceptor):
    """A would-be interceptor change: a timer before the skill's code starts."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        class TimerFirst(WorkflowInboundInterceptor):
            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                await workflow.sleep(0.01)
                return await super().execute_workflow(input)

        return TimerFirst


def test_an_interceptor_change_that_breaks_old_runs_fails_replay(engine: Engine) -> None:
    timer_first = SimplePlugin("test-timer-first", interceptors=[_TimerFirst()])
    why = asyncio.run(replay(engine, "gate-approved", extra=[timer_first], timeout=5))
    assert why is not None and why.startswith("NondeterminismError"), why


def test_replay_depends_on_sagaflows_plugin(engine: Engine) -> None:
    """Without the plugin (interceptors, run control) the same history does not replay:
    the histories pin sagaflow's own workflow-side behaviour, not only the skills'."""

    async def replay_bare() -> BaseException | None:
        bare = engine.replayer(plugin=False)
        result = await bare.replay_workflow(history("hello-world"), raise_on_replay_failure=False)
        return result.replay_failure

    failure = asyncio.run(replay_bare())
    assert isinstance(failure, NondeterminismError), failure  # the interceptor's closing upsert
