from sagaflow.durable.activities import emit_finding, spawn_subagent, write_artifact
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.flaky_steps.workflow import FlakyStepsInput, FlakyStepsWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return FlakyStepsInput(
        run_id=run_id, run_dir=run_dir, inbox_path=inbox_path,
        topic=str(cli_args.get("topic", "things")),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="flaky-steps", workflow_cls=FlakyStepsWorkflow,
        activities=[write_artifact, spawn_subagent, emit_finding],
        build_input=_build_input,
        description="Three model steps in a row (tests make one fail, then retry).",
    ))
