"""Test skill: ``steps`` write_artifact steps, then optionally one model call.

``sagaflow launch many-steps --steps 100 [--subagent yes] [--pause 2]`` — used by
the observing tests and the ``show``/``tail`` benchmarks. ``--pause S`` sleeps S
seconds (a durable timer) before the model call.
"""

from sagaflow.durable.activities import emit_finding, spawn_subagent, write_artifact
from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.many_steps.workflow import ManyStepsInput, ManyStepsWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    steps = int(cli_args.get("steps", "5"))
    subagent = str(cli_args.get("subagent", "no")).lower() in ("yes", "true", "1")
    topic = str(cli_args.get("topic", "counting"))
    return ManyStepsInput(
        run_id=run_id, run_dir=run_dir, inbox_path=inbox_path, steps=steps,
        subagent=subagent, pause_seconds=float(cli_args.get("pause", "0")),
        system_prompt=load_prompt(__file__, "system"),
        user_prompt=load_prompt(__file__, "user", {"topic": topic, "steps": str(steps)}),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="many-steps", workflow_cls=ManyStepsWorkflow,
        activities=[write_artifact, spawn_subagent, emit_finding],
        build_input=_build_input, arguments=["steps", "subagent", "topic", "pause"],
        description="N write_artifact steps and optionally one model call (tests, benchmarks).",
    ))
