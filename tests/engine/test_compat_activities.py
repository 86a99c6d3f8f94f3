"""The sagaflow 0.10 activities and output_schema model steps, in Temporal's activity
environment (``temporalio.testing.ActivityEnvironment``: a real activity context, no
server), with the dependencies injected: a fake Slack sender, a fake model transport."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from sagaflow._engine.activities import SagaflowActivities
from sagaflow._engine.compat_activities import CompatActivities
from sagaflow._engine.compat_seeds import (
    DeliverArtifactInput,
    FinalizeManifestInput,
    ReportSlackProgressInput,
    RunShellInput,
)
from sagaflow._engine.meta import RunConfig
from sagaflow._engine.seeds import SpawnSubagentInput
from sagaflow.models import ModelReply
from sagaflow.paths import Home

RUN = "legacy-20260101-000000-abcdef"
SCHEMA = {"type": "object", "properties": {"N": {"type": "integer"}}, "required": ["N"]}


def _env() -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=RUN)
    return env


@pytest.fixture
def rhome(home: Home) -> Home:
    """The engine conftest's isolated home, with this test's run directory."""
    home.run_dir(RUN).mkdir(parents=True)
    return home


async def _run_shell_runs_in_the_run_dir_with_a_timeout(home: Home, tmp_path: Path) -> None:
    acts = CompatActivities(home)
    env = _env()
    done = await env.run(acts.run_shell, RunShellInput(command="pwd; echo $X; exit 3", env={"X": "y"}))
    assert done.stdout.split() == [str(home.run_dir(RUN).resolve()), "y"] and done.exit_code == 3
    started = time.monotonic()
    slow = await env.run(acts.run_shell, RunShellInput(command="sleep 20 & sleep 20", timeout_seconds=0.5))
    assert slow.timed_out and slow.exit_code == 124 and time.monotonic() - started < 5
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(ApplicationError) as info:
        await env.run(acts.run_shell, RunShellInput(command="true", cwd=str(outside)))
    assert info.value.type == "ConfinementError" and info.value.non_retryable
    allowed = RunConfig(transport="scripted", allowed_roots=[str(outside)])
    ok = await env.run(acts.run_shell, RunShellInput(command="pwd", cwd=str(outside)), allowed)
    assert ok.stdout.strip() == str(outside.resolve())


async def _finalize_manifest_is_written_once(home: Home) -> None:
    run_dir = home.run_dir(RUN)
    (run_dir / "steps").mkdir()
    (run_dir / "steps" / "1-critic.json").write_text(json.dumps(
        {"role": "critic", "tier": "HAIKU", "model": "m", "cost_usd": 0.25, "usage": {"input_tokens": 9}}))
    (run_dir / "steps" / "2-critic.attempt1.failed.json").write_text("{}")
    (run_dir / "report.md").write_text("r")
    acts, env = CompatActivities(home), _env()
    path = await env.run(acts.finalize_manifest, FinalizeManifestInput(str(run_dir), "completed", "done"))
    manifest = json.loads(Path(path).read_text())
    assert manifest["status"] == "COMPLETED" and manifest["termination"] == {"label": "done"}
    assert manifest["steps"][0]["input_tokens"] == 9 and manifest["cost"] == {"total_usd": 0.25}
    assert manifest["artifacts"] == ["report.md"]
    await env.run(acts.finalize_manifest, FinalizeManifestInput("", "failed", error="late"))
    assert json.loads(Path(path).read_text())["status"] == "COMPLETED"  # a retry changes nothing
    with pytest.raises(ApplicationError, match="not this run's directory"):
        await env.run(acts.finalize_manifest, FinalizeManifestInput(str(home.runs / "other"), "x"))


async def _slack_posts_records_and_never_fails(home: Home, tmp_path: Path) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    acts = CompatActivities(home, slack_webhook="https://hook.example/x",
                            post=lambda url, payload: sent.append((url, payload)))
    env = _env()
    step = {"name": "plan", "status": "completed", "detail": "3 items"}
    progress = ReportSlackProgressInput("", "Title", steps=(step,), total_cost_usd=0.5)
    assert await env.run(acts.report_slack_progress, progress) is True
    assert sent[0][0] == "https://hook.example/x"
    assert sent[0][1]["text"] == "*Title*\n[x] plan - 3 items\n$0.5000"

    def broken(url: str, payload: dict[str, Any]) -> None:
        raise OSError("connection refused")

    failing = CompatActivities(home, slack_webhook="https://hook.example/x", post=broken)
    (home.run_dir(RUN) / "out.md").write_text("x" * 5000)
    artifact = DeliverArtifactInput("", "out.md", comment="see")
    assert await env.run(failing.deliver_artifact_to_slack, artifact) is False
    log = [json.loads(line) for line in (home.run_dir(RUN) / "slack.jsonl").read_text().splitlines()]
    assert [(m["kind"], m["posted"]) for m in log] == [("progress", True), ("artifact", False)]
    assert log[1]["error"] == "OSError: connection refused" and len(log[1]["text"]) < 3100
    escape = DeliverArtifactInput("", str(tmp_path / "secret.txt"))
    with pytest.raises(ApplicationError) as info:
        await env.run(failing.deliver_artifact_to_slack, escape)
    assert info.value.type == "ConfinementError"


class Scripted:
    """A model transport answering from a list of texts; records each user message."""

    def __init__(self, *texts: str) -> None:
        self.texts, self.users = list(texts), []  # type: ignore[var-annotated]

    async def __call__(self, transport: str, *, model: str, system: str, user: str,
                       max_tokens: int, skill_dir: Path | None = None) -> ModelReply:
        self.users.append(user)
        assert "OUTPUT FORMAT" in system
        return ModelReply(text=self.texts.pop(0), model=model, transport="anthropic",
                          usage={"input_tokens": 10, "output_tokens": 5}, stop_reason="end_turn")


async def _schema_step(home: Home, fake: Scripted, **extra: Any) -> Any:
    (home.run_dir(RUN) / "p.txt").write_text("Count.")
    acts = SagaflowActivities(home, complete=fake)
    config = RunConfig(transport="anthropic", models={"HAIKU": "m"})
    step = SpawnSubagentInput(role="counter", tier_name="HAIKU", system_prompt="S",
                              user_prompt_path="p.txt", output_schema=SCHEMA, **extra)
    return await _env().run(acts.spawn_subagent, step, config)


async def _schema_valid_first_time(home: Home) -> None:
    fake = Scripted('{"N": 4}')
    result = await _schema_step(home, fake)
    assert result.output == {"N": "4"} and len(fake.users) == 1


async def _schema_repair_turn_then_valid(home: Home) -> None:
    fake = Scripted('{"N": "four"}', '```json\n{"N": 4}\n```')
    result = await _schema_step(home, fake, mcp_config_path="/x/mcp.json")
    assert result.output == {"N": "4"} and len(fake.users) == 2
    assert "'four' is not of type 'integer'" in fake.users[1]
    assert result.usage.input_tokens == 20 and result.usage.output_tokens == 10  # both paid
    steps = home.run_dir(RUN) / "steps"
    assert (steps / "test-counter.rejected.response.md").read_text() == '{"N": "four"}'
    record = json.loads((steps / "test-counter.json").read_text())
    assert record["notes"] == ["mcp_config_path /x/mcp.json ignored: MCP is not supported"]


async def _schema_broken_twice_is_not_retried(home: Home) -> None:
    fake = Scripted("no json", '{"M": 1}')
    with pytest.raises(ApplicationError) as info:
        await _schema_step(home, fake)
    assert info.value.type == "SchemaOutputError" and info.value.non_retryable
    assert "'N' is a required property" in str(info.value) and len(fake.users) == 2



def test_run_shell_runs_in_the_run_dir_with_a_timeout(rhome: Home, tmp_path: Path) -> None:
    asyncio.run(_run_shell_runs_in_the_run_dir_with_a_timeout(rhome, tmp_path))


def test_finalize_manifest_is_written_once(rhome: Home) -> None:
    asyncio.run(_finalize_manifest_is_written_once(rhome))


def test_slack_posts_records_and_never_fails(rhome: Home, tmp_path: Path) -> None:
    asyncio.run(_slack_posts_records_and_never_fails(rhome, tmp_path))


def test_schema_valid_first_time(rhome: Home) -> None:
    asyncio.run(_schema_valid_first_time(rhome))


def test_schema_repair_turn_then_valid(rhome: Home) -> None:
    asyncio.run(_schema_repair_turn_then_valid(rhome))


def test_schema_broken_twice_is_not_retried(rhome: Home) -> None:
    asyncio.run(_schema_broken_twice_is_not_retried(rhome))


def test_task_queue_in_a_sandboxed_workflow_is_the_configured_one(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read at the sandbox's import of the workflow module, on every run."""
    import uuid

    from compat_workflow import TaskQueueWorkflow
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from sagaflow._engine.plugin import sandbox_runner
    from sagaflow._engine.server import temporal_binary

    async def run(queue: str) -> str:
        monkeypatch.setenv("SAGAFLOW_TASK_QUEUE", queue)
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary())
        ) as env, Worker(env.client, task_queue="q-run", workflows=[TaskQueueWorkflow],
                         workflow_runner=sandbox_runner()):
            return str(await env.client.execute_workflow(
                TaskQueueWorkflow.run, id=uuid.uuid4().hex, task_queue="q-run"))

    assert asyncio.run(run("configured-a")) == "configured-a"
