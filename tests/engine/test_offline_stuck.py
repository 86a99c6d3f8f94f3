"""A case whose run never finishes says what keeps it busy: a step Temporal retries
without end (its attempt and last failure), not only that the time ran out."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from plain_workflow import Plain

from sagaflow.authoring.suite import run_tests

WORKFLOW = '''
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="flaky_fetch")
async def flaky_fetch(path: str) -> str:
    raise RuntimeError(f"no file at {path}")


@workflow.defn(name="FlakyWorkflow")
class FlakyWorkflow:
    @workflow.run
    async def run(self, inp: dict) -> str:
        return await workflow.execute_activity(
            flaky_fetch, "x.txt", start_to_close_timeout=timedelta(seconds=5))
'''


@pytest.fixture
def flaky(tmp_path: Path, home: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    skill = tmp_path / "skills" / "flaky"
    (skill / "tests").mkdir(parents=True)
    (skill / "workflow.py").write_text(WORKFLOW)
    (skill / "__init__.py").write_text(textwrap.dedent('''
        from sagaflow.registry import SkillRegistry, SkillSpec
        from skills.flaky.workflow import FlakyWorkflow, flaky_fetch

        def register(registry: SkillRegistry) -> None:
            registry.register(SkillSpec(name="flaky", workflow_cls=FlakyWorkflow,
                                        activities=[flaky_fetch], uses_model=False))
    '''))
    (skill / "tests" / "fetches.yaml").write_text("timeout: 3\nexpect: {status: DONE, result: ok}\n")
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(skill.parent))
    monkeypatch.chdir(tmp_path)
    return skill


def test_a_step_retried_without_end_is_named_with_its_last_failure(flaky: Path) -> None:
    [result] = run_tests("flaky").results
    line = result.line()
    assert "the run did not finish in time; activity flaky_fetch is retrying (attempt " in line
    assert ": no file at x.txt)" in line
    assert "status: expected DONE, got RUNNING" in line
    assert line.endswith('result: expected "ok", got null')


def test_a_run_without_sagaflows_status_query_is_answered_for_good(flaky: Path) -> None:
    """Only a query that may pass (an RPC timeout) is looked at again; a run that has no
    status query (WorkflowQueryFailedError) is taken as waiting on nothing, as before."""
    import asyncio
    import uuid
    from datetime import timedelta

    from temporalio.worker import Worker

    from sagaflow._engine import testkit
    from sagaflow.authoring.driving import _status_now

    async def main() -> tuple[bool, object]:
        env = await testkit.start_environment()
        async with env, Worker(env.client, task_queue="plain", workflows=[Plain]):
            handle = await env.client.start_workflow(
                Plain.run, id=str(uuid.uuid4()), task_queue="plain",
                execution_timeout=timedelta(hours=2))
            return await _status_now(handle)

    assert asyncio.run(main()) == (True, None)


def test_a_signal_answer_is_never_outrun_by_its_waits_timeout(
    tmp_path: Path, home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """saga-signal waits an hour for its signal; the driver moved the test server's clock
    to that timeout whenever the status had not shown the wait yet (1 run in 8)."""
    import asyncio
    import shutil

    from sagaflow.authoring.cases import parse_answer
    from sagaflow.authoring.runner import OfflineRunner
    from sagaflow.skills.discovery import load_skills

    shutil.copytree(Path(__file__).resolve().parents[1] / "skills" / "saga-signal",
                    tmp_path / "skills" / "saga-signal")
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(tmp_path / "skills"))
    monkeypatch.chdir(tmp_path)
    answer = parse_answer({"signal": "manager_approval",
                           "payload": {"approved": True, "comments": "go"}})

    async def main() -> list[str]:
        async with OfflineRunner(load_skills()) as runner:
            return [(await runner.run("saga-signal", answers=[answer])).status
                    for _ in range(32)]

    assert asyncio.run(main()) == ["DONE"] * 32
