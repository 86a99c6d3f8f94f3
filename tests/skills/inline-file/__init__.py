"""Test skill: build_input inlines a whole file into the run's input (too big on purpose)."""

from pathlib import Path

from sagaflow.durable.activities import emit_finding, spawn_subagent, write_artifact
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.inline_file.workflow import InlineInput, InlineWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    text = Path(cli_args["file"]).read_text(encoding="utf-8")
    return InlineInput(run_dir=run_dir, content=text)


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="inline-file", workflow_cls=InlineWorkflow,
        activities=[write_artifact, spawn_subagent, emit_finding],
        build_input=_build_input,
    ))
