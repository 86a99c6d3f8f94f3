"""Built-in activities are on every worker; an activity name nobody registers fails fast.

Statically at launch (``check_launch``: an ``ast`` pass over the skill) and at run
time (the interceptor refuses the call, non-retryable, instead of Temporal
retrying "not registered on this worker" forever).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from drift_workflows import CallsUnknown
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from sagaflow._engine.activities import BUILTIN_ACTIVITIES
from sagaflow._engine.activity_check import check_launch
from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.scheduled import PREPARE_ACTIVITY
from sagaflow._engine.server import temporal_binary
from sagaflow.config import Settings
from sagaflow.errors import SkillLoadError
from sagaflow.paths import Home
from sagaflow.skills.activity_names import names_in_source
from sagaflow.skills.discovery import load_skills

SOURCE = '''
from temporalio import workflow
NAME = "from_a_constant"
async def f(act):
    await workflow.execute_activity("literal", start_to_close_timeout=1)
    await workflow.start_activity(activity="by_keyword")
    await workflow.execute_activity(NAME)
    await workflow.execute_local_activity("local_one")
    await workflow.execute_activity(act)              # a function: the SDK checks it
    await workflow.execute_activity(f"computed{1}")   # computed: not known statically
'''


def test_names_are_found_statically() -> None:
    assert names_in_source(SOURCE) == {
        "literal": 5, "by_keyword": 6, "from_a_constant": 7, "local_one": 8}


def test_builtins_are_registered_whatever_a_skillspec_lists(home: Home) -> None:
    async def build() -> set[str]:
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_binary()))
        async with env:
            plugin = SagaflowPlugin(home, Settings(), {}, loaded=load_skills())
            async with Worker(env.client, task_queue="q", workflows=[CallsUnknown],
                              plugins=[plugin]):  # no activities listed at all
                return plugin.registered

    registered = asyncio.run(build())
    assert registered >= BUILTIN_ACTIVITIES | {PREPARE_ACTIVITY}


def _skill_calling(root: Path, activity: str) -> None:
    skill = root / ".claude" / "skills" / "typo-skill"
    skill.mkdir(parents=True)
    (skill / "__init__.py").write_text(
        "from sagaflow.registry import SkillSpec\n"
        "from skills.typo_skill.workflow import Wf\n"
        "def register(r):\n    r.register(SkillSpec(name='typo-skill', workflow_cls=Wf))\n")
    (skill / "workflow.py").write_text(
        "from datetime import timedelta\nfrom temporalio import workflow\n\n\n"
        "@workflow.defn(name='TypoSkill')\nclass Wf:\n    @workflow.run\n"
        "    async def run(self) -> str:\n"
        f"        return await workflow.execute_activity({activity!r}, "
        "start_to_close_timeout=timedelta(seconds=5))\n")


@pytest.mark.parametrize(("activity", "fails"), [("write_artefact", True),
                                                 ("write_artifact", False),
                                                 ("sagaflow_finalize_run", False)])
def test_launch_refuses_an_unregistered_name_with_close_matches(
    home: Home, tmp_path: Path, activity: str, fails: bool
) -> None:
    _skill_calling(tmp_path, activity)
    loaded = load_skills(tmp_path, only="typo-skill")
    if not fails:
        check_launch(loaded, "typo-skill")
        return
    with pytest.raises(SkillLoadError) as refused:
        check_launch(loaded, "typo-skill")
    assert str(refused.value) == (
        "Skill typo-skill calls activity 'write_artefact' (workflow.py:9), which no sagaflow "
        "worker registers (did you mean 'write_artifact'?); fix the name or list the activity "
        "in the skill's SkillSpec(activities=[...]).")


def test_an_unregistered_activity_fails_the_run_at_once(home: Home) -> None:
    async def scenario() -> None:
        queue = f"unknown-{uuid.uuid4().hex[:8]}"
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_binary()))
        async with env:
            plugin = SagaflowPlugin(home, Settings(task_queue=queue), {})
            async with Worker(env.client, task_queue=queue, workflows=[CallsUnknown],
                              plugins=[plugin]):
                started = time.monotonic()
                with pytest.raises(WorkflowFailureError) as failed:
                    await asyncio.wait_for(env.client.execute_workflow(
                        CallsUnknown.run, id=queue, task_queue=queue), 30)
                assert time.monotonic() - started < 10
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "UnregisteredActivity"
        assert "'write_artefact'" in cause.message and "did you mean 'write_artifact'" in cause.message

    asyncio.run(scenario())
