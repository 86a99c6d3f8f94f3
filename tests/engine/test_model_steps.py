"""Model steps through sagaflow's interceptor: usage, budget gate, heartbeat cap, run config.

The model is ``conftest.FakeModel`` injected into ``SagaflowActivities``: each call
costs $0.40 at the run's price table.
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_workflows import StepsInput
from fake_model import FAKE_CONFIG, FAKE_MODEL
from harness import Engine
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError

from sagaflow._engine import meta
from sagaflow._engine.control_types import Decision, DecisionRequest
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.meta import RunConfig
from sagaflow.pricing import Price


def steps(e: Engine, calls: int, **kw: Any) -> StepsInput:
    return StepsInput(run_dir=str(e.root / "out"), writes=1, calls=calls, **kw)


async def decide(handle: WorkflowHandle[Any, Any], **request: Any) -> Decision:
    return await handle.execute_update(
        meta.UPDATE_DECIDE, DecisionRequest(**request), result_type=Decision
    )


def test_the_skill_gets_the_output_and_the_run_keeps_the_usage(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 2))
        result = await handle.result()
        assert result[1:] == [{"RESULT": "1"}, {"RESULT": "2"}]  # unwrapped for the skill
        assert [c["model"] for c in e.model.calls] == [FAKE_MODEL, FAKE_MODEL]
        assert e.model.calls[0]["user"] == "0"  # the prompt file the first write made
        status = await e.status(handle)
        assert (status.model_calls, status.input_tokens, status.output_tokens) == (2, 2_000_000, 20)
        assert status.spent_usd == pytest.approx(0.8)
        assert (await e.attributes(handle))[meta.SA_COST] == pytest.approx(0.8)
        assert len(list((e.home.run_dir(handle.id) / "steps").glob("*.response.md"))) == 2

    engine.run(scenario)


def test_budget_parks_the_run_until_extended(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 3), budget_usd=1.0)
        status = await e.until(handle, lambda s: bool(s.pending))
        [gate] = status.pending
        assert (gate.kind, status.waiting_on, len(e.model.calls)) == ("budget", "budget", 2)
        assert gate.prompt == (
            "budget reached: $0.8000 of $1.0000 spent; the next call may cost up to $0.4000")
        attrs = await e.attributes(handle)
        assert (attrs[meta.SA_STATE], attrs[meta.SA_WAITING]) == ("waiting", "budget")
        needs = await e.entry(handle.id, "NEEDS_APPROVAL")
        assert f"sagaflow approve {handle.id} --extend-budget" in needs.summary

        with pytest.raises(WorkflowUpdateFailedError, match="update failed") as info:
            await decide(handle, approved=True)
        assert "approve with --extend-budget AMOUNT to continue" in str(info.value.cause)

        decision = await decide(handle, approved=True, extend_budget_usd=0.5, by="dana")
        assert (decision.kind, decision.extend_budget_usd) == ("budget", 0.5)
        await handle.result()
        status = await e.status(handle)
        assert status.budget_usd == pytest.approx(1.5)
        assert status.spent_usd == pytest.approx(1.2) and status.model_calls == 3

    engine.run(scenario)


def test_a_refused_extension_fails_the_run(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 2), budget_usd=0.5)
        await e.until(handle, lambda s: bool(s.pending))
        await decide(handle, approved=False, reason="enough")
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        assert info.value.cause is not None
        assert failure_reason(info.value.cause) == (
            "budget reached: $0.4000 of $0.5000 spent; the next call may cost up to $0.4000; "
            "the budget was not extended: enough"
        )
        assert len(e.model.calls) == 1
        assert "the budget was not extended" in (await e.entry(handle.id, "FAILED")).summary

    engine.run(scenario)


@pytest.mark.parametrize(("asked", "scheduled"), [(120.0, 3.0), (1.0, 1.0)])
def test_model_heartbeat_timeout_is_capped(engine: Engine, asked: float, scheduled: float) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 1, heartbeat_seconds=asked))
        await handle.result()
        [model] = await e.scheduled(handle, "spawn_subagent")
        assert model.heartbeat_timeout.ToSeconds() == scheduled  # cap: settings.heartbeat_seconds

    assert engine.settings.heartbeat_seconds == 3.0
    engine.run(scenario)


def test_scripted_skill_runs_on_its_replies_with_the_launch_config(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("hello-world", {"name": "Ada"}, transport="scripted")
        assert await handle.result() == "hello, Ada"
        assert e.model.calls[0]["transport"] == "scripted"  # from the run's memo, not the worker
        [done] = e.inbox(handle.id)
        assert (done.status, done.note) == ("DONE", "scripted replies, no model called")

    engine.run(scenario)


@pytest.mark.parametrize("budget", [None, 5.0])
def test_cost_alone_is_upserted_with_the_next_state_change_not_per_call(
    engine: Engine, budget: float | None
) -> None:
    """Each upsert is a visibility write: cost rides with state changes and the run's end;
    the run's revision (in its memo) decides batching and the worst-case budget check
    without a ``workflow.patched`` marker or its ``TemporalChangeVersion`` upsert."""
    from temporalio.api.enums.v1 import EventType

    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 3), budget_usd=budget)
        await handle.result()
        upserts = await e.events(handle, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
        with_cost = [
            u for u in upserts
            if meta.SA_COST in u.upsert_workflow_search_attributes_event_attributes
            .search_attributes.indexed_fields
        ]
        assert len(with_cost) == 1  # the closing upsert, not one per model call
        assert (await e.attributes(handle))[meta.SA_COST] == pytest.approx(1.2)
        assert len(upserts) == 1  # nothing else: the revision in the memo decides, unrecorded
        assert await patch_markers(e, handle) == []
        await e.replayer().replay_workflow(await handle.fetch_history())  # raises if it diverges

    engine.run(scenario)


async def patch_markers(e: Engine, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The ids of the ``workflow.patched`` markers in a run's history, sorted."""
    import json

    from temporalio.api.enums.v1 import EventType

    found = []
    for event in await e.events(handle, EventType.EVENT_TYPE_MARKER_RECORDED):
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_patch":
            found.append(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
    return sorted(found)


@pytest.mark.parametrize("budget", [None, 5.0])
def test_a_run_without_a_revision_decides_by_workflow_patched(
    engine: Engine, budget: float | None
) -> None:
    """A run started by an earlier sagaflow (no revision in its memo) asks
    ``workflow.patched`` as it did then: a marker per change, batched cost alike."""
    from temporalio.api.enums.v1 import EventType

    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 3), revision=0, budget_usd=budget)
        await handle.result()
        wanted = ["sagaflow-cost-upsert-batched"]
        if budget is not None:
            wanted.append("sagaflow-budget-worst-case")
        assert await patch_markers(e, handle) == sorted(wanted)
        await e.replayer().replay_workflow(await handle.fetch_history())  # raises if it diverges
        upserts = await e.events(handle, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
        with_cost = [
            u for u in upserts
            if meta.SA_COST in u.upsert_workflow_search_attributes_event_attributes
            .search_attributes.indexed_fields
        ]
        assert len(with_cost) == 1  # batched, as for a run with the revision
        assert (await e.attributes(handle))[meta.SA_COST] == pytest.approx(1.2)

    engine.run(scenario)


#: FAKE_CONFIG with an output price: the worst case of a call is dominated by max_tokens
PRICED = RunConfig(
    transport="anthropic", models=dict(FAKE_CONFIG.models),
    prices={FAKE_MODEL: Price(input=0.4, output=10.0, cache_write=0.0, cache_read=0.0)},
)


def test_a_tiny_budget_parks_before_the_first_call(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.start("t-steps", steps(e, 1), budget_usd=0.0000001)
        status = await e.until(handle, lambda s: bool(s.pending))
        [gate] = status.pending
        assert len(e.model.calls) == 0  # the first call is checked too
        # prompt "0" + system "sys": 4 bytes -> 2 tokens at $0.40/MTok; no output price
        assert gate.prompt == (
            "budget reached: $0.0000 of $0.0000001 spent; the next call may cost up to $0.0000008")
        await decide(handle, approved=False, reason="too small")
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        assert len(e.model.calls) == 0

    engine.run(scenario)


def test_budget_counts_max_tokens_of_the_next_call(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        # worst case of each call: 2 input tokens + 4096 output tokens at $10/MTok = $0.041
        allowed = await e.start("t-steps", steps(e, 1), budget_usd=0.05, config=PRICED)
        await allowed.result()
        assert len(e.model.calls) == 1
        handle = await e.start("t-steps", steps(e, 1), budget_usd=0.04, config=PRICED)
        [gate] = (await e.until(handle, lambda s: bool(s.pending))).pending
        assert gate.prompt.endswith("the next call may cost up to $0.0410")
        assert len(e.model.calls) == 1

    engine.run(scenario)


def test_each_builtin_step_carries_only_the_config_it_reads(engine: Engine) -> None:
    """spawn_subagent gets the whole run config; write_artifact its allowed roots;
    emit_finding its transport (models and prices are not repeated in history)."""
    from temporalio.converter import DataConverter

    async def scenario(e: Engine) -> None:
        handle = await e.launch("hello-world", {"name": "Ada"}, transport="scripted")
        assert await handle.result() == "hello, Ada"
        converter = DataConverter.default.payload_converter

        async def config_of(activity: str) -> RunConfig:
            [scheduled] = await e.scheduled(handle, activity)
            second = scheduled.input.payloads[1]
            [config] = converter.from_payloads([second], [RunConfig])
            assert isinstance(config, RunConfig)
            return config

        full = await config_of("spawn_subagent")
        assert full.transport == "scripted" and full.models and full.skill_dir
        written = await config_of("write_artifact")
        assert written == RunConfig(transport="scripted", allowed_roots=full.allowed_roots)
        assert await config_of("emit_finding") == RunConfig(transport="scripted")

    engine.run(scenario)
