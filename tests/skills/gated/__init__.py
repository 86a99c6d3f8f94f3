from sagaflow.durable.activities import emit_finding, write_artifact
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.gated.workflow import GatedInput, GatedWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return GatedInput(
        run_id=run_id, run_dir=run_dir, inbox_path=inbox_path,
        timeout=float(cli_args.get("timeout", "3600")),
        default=str(cli_args.get("default", "reject")),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="gated", workflow_cls=GatedWorkflow,
        activities=[write_artifact, emit_finding],
        build_input=_build_input,
        description="Writes a draft, waits for approval to publish; compensates on cancel.",
        uses_model=False,
    ))
