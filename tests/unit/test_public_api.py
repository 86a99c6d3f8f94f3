"""The public face of sagaflow, pinned: what skills import must not move or vanish.

Changing a list here is an API change: say so in the changelog and keep the old
names importable (the seed paths re-export :mod:`sagaflow.workflow`).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

PUBLIC: dict[str, list[str]] = {
    "sagaflow": ["SagaflowError", "SkillRegistry", "SkillSpec", "__version__", "load_prompt"],
    "sagaflow.workflow": [
        "HAIKU_POLICY", "OPUS_POLICY", "SONNET_POLICY", "ApprovalGate", "Branch", "Decision",
        "EmitFindingInput", "LoopLimitError", "ParallelError", "Saga", "SpawnSubagentInput",
        "WriteArtifactInput", "ask_model", "child", "emit_finding", "loop_until", "parallel",
        "pool", "route", "sleep", "spawn_subagent", "wait_for_signal", "write_artifact",
    ],
    "sagaflow.registry": ["SkillRegistry", "SkillSpec"],
    "sagaflow.prompts": ["load_claude_skill_prompt", "load_prompt", "prompt_path", "render"],
    "sagaflow.durable.activities": [
        "EmitFindingInput", "SpawnSubagentInput", "WriteArtifactInput", "emit_finding",
        "spawn_subagent", "write_artifact",
        # what skills written for sagaflow 0.10 import besides
        "FinalizeManifestInput", "RunShellInput", "RunShellResult", "finalize_manifest",
        "finalize_manifest_activity", "run_shell", "run_shell_activity",
    ],
    "sagaflow.durable.state": ["ActivityOutcome", "ActivityStatus", "WorkflowState"],
    "sagaflow.slack_progress": [
        "DeliverArtifactInput", "ReportSlackProgressInput", "deliver_artifact_to_slack",
        "report_slack_progress",
    ],
    "sagaflow.temporal_client": ["TASK_QUEUE", "task_queue"],
    "sagaflow.durable.retry_policies": ["HAIKU_POLICY", "OPUS_POLICY", "POLICIES", "SONNET_POLICY"],
    # the pytest plugin authors enable with pytest_plugins = ["sagaflow.testing"]
    "sagaflow.testing": ["Observed", "Report", "SkillRunner", "skill_runner"],
    "sagaflow.plugins": ["ENTRY_POINT_GROUP", "HOOKS", "LoadedPlugins", "Plugin", "RunEvent",
                         "StepEvent", "load_plugins"],
}
#: seed paths that re-export sagaflow.workflow's objects
SEED_PATHS = ("sagaflow.durable.activities", "sagaflow.durable.retry_policies",
              "sagaflow.durable.approval")


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PUBLIC[module])
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"{module}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("seed", SEED_PATHS)
def test_seed_paths_re_export_the_workflow_objects(seed: str) -> None:
    import sagaflow.workflow as public

    mod = importlib.import_module(seed)
    shared = [name for name in mod.__all__ if name in public.__all__]
    assert shared, f"{seed} shares no name with sagaflow.workflow"
    different = [name for name in shared if getattr(mod, name) is not getattr(public, name)]
    assert not different, f"{seed} has its own copies of {different}"


def test_seed_policies_table_holds_the_public_policies() -> None:
    from sagaflow.durable.retry_policies import POLICIES
    from sagaflow.workflow import HAIKU_POLICY, OPUS_POLICY, SONNET_POLICY

    assert sorted(POLICIES) == ["HAIKU", "OPUS", "SONNET"]
    assert POLICIES["HAIKU"] is HAIKU_POLICY
    assert POLICIES["SONNET"] is SONNET_POLICY
    assert POLICIES["OPUS"] is OPUS_POLICY


def test_top_level_names_are_the_facades_objects() -> None:
    import sagaflow
    import sagaflow.errors
    import sagaflow.prompts
    import sagaflow.registry

    assert sagaflow.SkillRegistry is sagaflow.registry.SkillRegistry
    assert sagaflow.SkillSpec is sagaflow.registry.SkillSpec
    assert sagaflow.load_prompt is sagaflow.prompts.load_prompt
    assert sagaflow.SagaflowError is sagaflow.errors.SagaflowError
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sagaflow.nope  # type: ignore[attr-defined]


def test_import_sagaflow_is_light() -> None:
    """``import sagaflow`` (and its error type) pulls in neither temporalio nor anthropic."""
    code = (
        "import json, sys\n"
        "import sagaflow\n"
        "sagaflow.SagaflowError\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'temporalio', 'anthropic', 'rich'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
