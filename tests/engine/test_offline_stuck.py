"""A case whose run never finishes says what keeps it busy: a step Temporal retries
without end (its attempt and last failure), not only that the time ran out."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

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
