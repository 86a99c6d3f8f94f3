"""sagaflow plugins in process: what the hooks see, and that no plugin changes a run.

The two-step test skill (write_artifact, spawn_subagent twice, emit_finding) runs on
the in-process worker with the fake model (1,000,000 input and 10 output tokens per
call); plugins are handed to SagaflowPlugin as the worker daemon hands them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from harness import Engine

from sagaflow.errors import TransportError
from sagaflow.plugins import Plugin, RunEvent, StepEvent

STEPS = ["write_artifact", "spawn_subagent"] * 2 + ["emit_finding"]


class Recorder(Plugin):
    """Records every hook call; ``after_step`` and ``on_error`` are async on purpose."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.done = threading.Event()

    def before_run(self, event: RunEvent) -> None:
        self.calls.append(("before_run", event))

    def before_step(self, event: StepEvent) -> None:
        self.calls.append(("before_step", event))

    async def after_step(self, event: StepEvent) -> None:
        self.calls.append(("after_step", event))

    def after_run(self, event: RunEvent) -> None:
        self.calls.append(("after_run", event))
        self.done.set()

    async def on_error(self, event: RunEvent | StepEvent) -> None:
        self.calls.append(("on_error", event))

    def named(self, hook: str) -> list[Any]:
        return [event for name, event in self.calls if name == hook]


class Raising:
    """Not a Plugin subclass: every hook raises, and one is slower than the timeout."""

    def before_run(self, event: RunEvent) -> None:
        raise RuntimeError("before_run broke")

    async def before_step(self, event: StepEvent) -> None:
        raise ValueError("before_step broke")

    def after_step(self, event: StepEvent) -> None:
        time.sleep(0.5)  # longer than plugin_seconds=0.2: logged, left behind

    async def after_run(self, event: RunEvent) -> None:
        raise KeyError("after_run broke")

    def on_error(self, event: RunEvent | StepEvent) -> None:
        raise RuntimeError("on_error broke")


async def _two_step(engine: Engine) -> tuple[str, str, str]:
    handle = await engine.launch("two-step", {"topic": "tides"})
    result = await handle.result()
    assert handle.result_run_id is not None
    return handle.id, handle.result_run_id, result


def _wait(recorder: Recorder) -> None:
    assert recorder.done.wait(10), recorder.calls


def test_hooks_see_the_run_and_each_step_with_their_fields(engine: Engine) -> None:
    recorder = Recorder()
    engine.plugins = [("recorder", recorder)]

    async def scenario(engine: Engine) -> tuple[str, str, str]:
        found = await _two_step(engine)
        _wait(recorder)
        scheduled = await engine.scheduled(engine.client.get_workflow_handle(found[0]),
                                           "spawn_subagent")
        assert all("sagaflow-run" in s.header.fields for s in scheduled) and scheduled
        # the history of a run with plugins replays on a worker without them
        history = await engine.client.get_workflow_handle(found[0]).fetch_history()
        engine.plugins = []
        replayed = await engine.replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None
        return found

    run_id, execution, result = engine.run(scenario)
    assert result == "1 + 2"
    hooks = [name for name, _ in recorder.calls]
    assert hooks == ["before_run", *["before_step", "after_step"] * len(STEPS), "after_run"]

    (before,) = recorder.named("before_run")
    assert (before.run_id, before.workflow_id, before.temporal_run_id) == (run_id, run_id, execution)
    assert (before.skill, before.workflow_type, before.status) == ("two-step", "TwoStepWorkflow",
                                                                    "RUNNING")
    assert before.duration_seconds == 0.0 and before.cost_usd == 0.0 and before.started_at

    starts, ends = recorder.named("before_step"), recorder.named("after_step")
    assert [e.step for e in starts] == STEPS == [e.step for e in ends]
    for event in [*starts, *ends]:
        assert (event.run_id, event.skill, event.temporal_run_id) == (run_id, "two-step", execution)
        assert event.attempt == 1 and event.activity_id and event.error == ""
    assert {e.status for e in starts} == {"RUNNING"} and {e.status for e in ends} == {"DONE"}
    models = [e for e in ends if e.step == "spawn_subagent"]
    assert [(e.input_tokens, e.output_tokens, e.tokens) for e in models] == [
        (1_000_000, 10, 1_000_010)] * 2
    assert all(e.cost_usd > 0 and e.model and e.duration_seconds >= 0 for e in models)
    assert all(e.cost_usd == 0 and e.tokens == 0 for e in ends if e.step != "spawn_subagent")

    (after,) = recorder.named("after_run")
    assert (after.run_id, after.status, after.error) == (run_id, "DONE", "")
    assert (after.model_calls, after.input_tokens, after.output_tokens) == (2, 2_000_000, 20)
    assert after.cost_usd == pytest.approx(sum(e.cost_usd for e in models))
    assert after.duration_seconds >= 0 and after.started_at == before.started_at


def test_a_plugin_that_raises_or_hangs_changes_nothing(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    engine.settings = engine.settings.with_overrides(plugin_seconds=0.2)
    engine.plugins = [("tests:Raising", Raising()), ("recorder", recorder)]
    caplog.set_level(logging.WARNING, logger="sagaflow.plugins")

    _, _, result = engine.run(_two_step)
    _wait(recorder)
    assert result == "1 + 2"  # the same result as without plugins
    # the plugin after the raising one still saw everything, in order
    assert [name for name, _ in recorder.calls][-1] == "after_run"
    assert len(recorder.named("after_step")) == len(STEPS)
    lines = caplog.messages
    assert any("plugin tests:Raising: before_run raised RuntimeError: before_run broke" in m
               for m in lines), lines
    assert any("before_step raised ValueError: before_step broke" in m for m in lines)
    assert any("after_step took longer than 0.2s" in m for m in lines)
    assert any("after_run raised KeyError" in m for m in lines)
    assert all("\n" not in m for m in lines)  # one line each


def test_a_failed_step_and_run_reach_on_error(engine: Engine) -> None:
    recorder = Recorder()
    engine.plugins = [("recorder", recorder)]

    async def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise TransportError("The model refused the key.", retryable=False)

    engine.model = refuse  # type: ignore[assignment]

    async def scenario(engine: Engine) -> str:
        handle = await engine.launch("two-step", {"topic": "tides"})
        with pytest.raises(Exception):  # noqa: B017 - WorkflowFailureError
            await handle.result()
        return handle.id

    run_id = engine.run(scenario)
    _wait(recorder)
    failed = [e for e in recorder.named("after_step") if e.status == "FAILED"]
    assert [(e.step, e.will_retry) for e in failed] == [("spawn_subagent", False)]
    assert "The model refused the key." in failed[0].error
    (after,) = recorder.named("after_run")
    assert (after.run_id, after.status) == (run_id, "FAILED")
    assert "The model refused the key." in after.error
    errors = recorder.named("on_error")
    assert [type(e).__name__ for e in errors] == ["StepEvent", "RunEvent"]
    assert errors[0] == failed[0] and errors[1] == after


def test_no_plugins_means_no_hooks_and_no_header(engine: Engine) -> None:
    async def scenario(engine: Engine) -> list[Any]:
        handle = await engine.launch("two-step", {"topic": "tides"})
        await handle.result()
        return await engine.scheduled(handle, "spawn_subagent")

    scheduled = engine.run(scenario)
    assert engine.built is not None and engine.built.hooks is None
    assert all("sagaflow-run" not in s.header.fields for s in scheduled)


def test_the_queue_is_drained_when_the_worker_stops(engine: Engine) -> None:
    class Slow(Plugin):
        def __init__(self) -> None:
            self.seen: list[str] = []

        async def after_run(self, event: RunEvent) -> None:
            await asyncio.sleep(0.3)
            self.seen.append(event.status)

    slow = Slow()
    engine.plugins = [("slow", slow)]
    engine.run(_two_step)  # returns once the worker stopped: its run_context drained the queue
    assert slow.seen == ["DONE"]


def test_a_skillmd_run_names_its_skill_in_every_event(engine: Engine) -> None:
    """SKILL.md skills share one workflow type: the run header names the skill."""
    from agent_skills import REPORT_TURNS, write_skill

    from sagaflow.agent import AGENT_WORKFLOW, TURN_ACTIVITY
    from sagaflow.skills.discovery import load_skills

    (engine.root / "notes").mkdir()
    (engine.root / "notes" / "a.md").write_text("alpha\nTODO: beta\n", encoding="utf-8")
    write_skill(engine.root, "report", "Summarise $ARGUMENTS into report.md.\n",
                turns=REPORT_TURNS, frontmatter="allowed-tools: Read, Glob, Grep, Write\n")
    engine.loaded = load_skills(engine.root)
    recorder = Recorder()
    engine.plugins = [("recorder", recorder)]

    async def scenario(e: Engine) -> str:
        handle = await e.launch("report", {"_extra": "the notes"}, transport="scripted")
        await handle.result()
        return handle.id

    run_id = engine.run(scenario)
    _wait(recorder)
    (before,) = recorder.named("before_run")
    assert (before.skill, before.workflow_type) == ("report", AGENT_WORKFLOW)
    steps = recorder.named("after_step")
    assert {(e.run_id, e.skill) for e in steps} == {(run_id, "report")}
    assert [e.step for e in steps].count(TURN_ACTIVITY) == 5
    (after,) = recorder.named("after_run")
    assert (after.skill, after.status) == ("report", "DONE")
