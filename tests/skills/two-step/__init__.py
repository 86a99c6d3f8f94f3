from sagaflow.durable.activities import emit_finding, spawn_subagent, write_artifact
from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.two_step.workflow import TwoStepInput, TwoStepWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    topic = cli_args["topic"]
    subs = {"topic": topic}
    return TwoStepInput(
        run_id=run_id, run_dir=run_dir, inbox_path=inbox_path,
        system_prompt=load_prompt(__file__, "system"),
        first_prompt=load_prompt(__file__, "first", subs),
        second_prompt=load_prompt(__file__, "second", subs),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="two-step", workflow_cls=TwoStepWorkflow,
        activities=[write_artifact, spawn_subagent, emit_finding],
        build_input=_build_input,
    ))
