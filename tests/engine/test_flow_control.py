"""parallel, loop_until and route in workflow code (in-process, time skipping)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flow_workflows import FlowInput
from harness import Engine, failure
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError

from sagaflow._engine import meta


def run_case(engine: Engine, case: str, **args: Any) -> Any:
    async def scenario(e: Engine) -> Any:
        return await (await e.start("t-flow", FlowInput(case, args))).result()

    return engine.run(scenario)


def fails_with(engine: Engine, case: str, **args: Any) -> str:
    async def scenario(e: Engine) -> str:
        handle = await e.start("t-flow", FlowInput(case, args))
        reason = await failure(handle)
        assert (await e.entry(handle.id, "FAILED")).summary == reason  # the inbox agrees
        return reason

    return engine.run(scenario)


def test_parallel_returns_results_in_call_order_within_the_bound(engine: Engine) -> None:
    out = run_case(engine, "parallel", n=5, max=2)
    assert out["results"] == [0, 1, 2, 3, 4]  # the last branch finished first
    assert out["peak"] == 2
    # two slots: b0 (5 s) and b1 (4 s); b2 (3 s) at 4, b3 (2 s) at 5, b4 (1 s) at 7
    assert out["seconds"] == pytest.approx(8, abs=1.5)


def test_parallel_without_a_bound_runs_everything_at_once(engine: Engine) -> None:
    out = run_case(engine, "parallel", n=4)
    assert out["peak"] == 4 and out["seconds"] == pytest.approx(4, abs=1.5)


def test_parallel_fail_fast_cancels_the_rest_and_reports_each_branch(engine: Engine) -> None:
    out = run_case(engine, "parallel", n=4, fail=[3])  # branch 3 fails after 1 s
    assert out["results"] == [
        [0, False, True, None, ""], [1, False, True, None, ""], [2, False, True, None, ""],
        [3, False, False, None, "branch 3 broke"],
    ]
    assert out["seconds"] == pytest.approx(1, abs=1.5)  # nobody waited for the slow ones


def test_parallel_without_fail_fast_lets_every_branch_finish(engine: Engine) -> None:
    out = run_case(engine, "parallel", n=4, fail=[1, 3], fail_fast=False)
    assert out["results"] == [
        [0, True, False, 0, ""], [1, False, False, None, "branch 1 broke"],
        [2, True, False, 2, ""], [3, False, False, None, "branch 3 broke"],
    ]
    assert out["seconds"] == pytest.approx(4, abs=1.5)


def test_an_uncaught_parallel_error_names_the_failures_in_the_run(engine: Engine) -> None:
    assert fails_with(engine, "parallel", n=3, fail=[0], max=1, **{"raise": True}) == (
        "1 of 3 parallel branches failed, 2 cancelled (branch 0 first): branch 0 broke")


def test_cancelling_the_run_cancels_every_branch(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("parallel", {"n": 3, "max": 2}))
        timers = EventType.EVENT_TYPE_TIMER_STARTED
        while len(await e.events(handle, timers)) < 2:  # two branches are sleeping
            await asyncio.sleep(0.02)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        assert len(await e.events(handle, EventType.EVENT_TYPE_TIMER_CANCELED)) == 2
        assert len(await e.events(handle, timers)) == 2  # the third never started
        await e.entry(handle.id, "CANCELLED")

    engine.run(scenario)


def test_parallel_of_model_calls_is_one_step_each(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("parallel_models", {"n": 6, "max": 3}))
        results = await handle.result()
        assert sorted(results, key=len) == results and len(set(results)) == 6
        steps = await e.scheduled(handle, meta.SPAWN_SUBAGENT)
        assert len(steps) == 6
        assert sorted(c["user"] for c in e.model.calls) == [f"item {i}" for i in range(6)]
        assert (await e.status(handle)).model_calls == 6

    engine.run(scenario)


@pytest.mark.parametrize(("args", "reason"), [
    ({}, "parallel needs at least one call; it was given none."),
    ({"calls": "abc"}, "calls must be a list of callables, not str."),
    ({"calls": [1]}, "calls[0] must be a callable returning an awaitable (for example "
                     "lambda: ask_model(...)), not int; pass the function, do not call it."),
])
def test_parallel_bad_input(engine: Engine, args: dict[str, Any], reason: str) -> None:
    assert fails_with(engine, "parallel_bad", **args) == reason


@pytest.mark.parametrize(("bound", "reason"), [
    (0, "max_concurrency must be at least 1, not 0."),
    ("2", "max_concurrency must be an int or None, not '2'."),
])
def test_parallel_max_concurrency_must_be_a_positive_int(
    engine: Engine, bound: Any, reason: str
) -> None:
    assert fails_with(engine, "parallel", n=2, max=bound) == reason


def test_loop_until_stops_when_the_body_is_done(engine: Engine) -> None:
    assert run_case(engine, "loop", good_at=3) == "3"
    assert [c["user"] for c in engine.model.calls] == [
        "draft 1 after None", "draft 2 after 1", "draft 3 after 2"]


def test_loop_until_at_the_limit_fails_or_returns_the_last(engine: Engine) -> None:
    assert run_case(engine, "loop", good_at=9, max=2) == {"iterations": 2, "last": "2"}


def test_loop_until_return_last(engine: Engine) -> None:
    assert run_case(engine, "loop", good_at=9, max=2, on_max="return_last") == "2"


def test_loop_until_limit_reads_well_in_the_run(engine: Engine) -> None:
    assert fails_with(engine, "loop", good_at=9, max=1, **{"raise": True}) == (
        "loop_until stopped after 1 iteration without done=True; raise max_iterations or "
        "pass on_max='return_last' to keep the last value.")


@pytest.mark.parametrize(("args", "reason"), [
    ({"returns": "yes"}, "loop_until's body must return (done, value) with done a bool; "
                         "iteration 1 returned 'yes'."),
    ({"options": {"max_iterations": 0}}, "max_iterations must be at least 1, not 0."),
    ({"options": {"max_iterations": 2, "on_max": "last"}},
     "on_max must be 'fail' or 'return_last', not 'last'."),
    ({"options": {}}, "loop_until() missing 1 required keyword-only argument: 'max_iterations'"),
])
def test_loop_until_bad_input(engine: Engine, args: dict[str, Any], reason: str) -> None:
    assert fails_with(engine, "loop_bad", **args) == reason


def test_route_runs_the_named_branch(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-flow", FlowInput("route", {"key": "careful"}))
        assert await handle.result() == "careful"
        assert len(await e.events(handle, EventType.EVENT_TYPE_TIMER_FIRED)) == 1
        assert not e.model.calls  # the other branch never ran

    engine.run(scenario)
    assert run_case(engine, "route", key="cheap").startswith("STRUCTURED_OUTPUT_START")


def test_route_falls_back_to_the_default(engine: Engine) -> None:
    assert run_case(engine, "route", key="other", default=True) == "fallback"


@pytest.mark.parametrize(("args", "reason"), [
    ({"key": "fast"}, "route key 'fast' is not declared; declared: careful, cheap (add a branch "
                      "for it or pass default=)."),
    ({"key": "a", "branches": {}}, "route needs at least one branch; branches is empty."),
    ({"key": "a", "branches": {"a": "text"}},
     "route's branch 'a' must be a callable returning an awaitable, not str."),
    ({"key": 3}, "route key must be a str, not int 3."),
])
def test_route_bad_input(engine: Engine, args: dict[str, Any], reason: str) -> None:
    assert fails_with(engine, "route", **args) == reason
