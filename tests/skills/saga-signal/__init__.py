from sagaflow.durable.activities import write_artifact
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.saga_signal.workflow import SagaSignalInput, SagaSignalWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return SagaSignalInput(run_dir=run_dir, wait=float(cli_args.get("wait", "3600")))


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="saga-signal", workflow_cls=SagaSignalWorkflow,
        activities=[write_artifact], build_input=_build_input,
    ))
