"""Test skill: pydantic models as the run's input, an activity's input and result, and the
run's result. ``sagaflow launch typed-review --topic T [--file PATH]`` (the file's text is
inlined into the input: large on purpose in the payload-store tests)."""

from pathlib import Path

from sagaflow.registry import SkillRegistry, SkillSpec

from skills.typed_review.activities import score_review
from skills.typed_review.models import ReviewInput
from skills.typed_review.workflow import TypedReviewWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    document = Path(cli_args["file"]).read_text(encoding="utf-8") if cli_args.get("file") else ""
    return ReviewInput(topic=cli_args["topic"], document=document,
                       weights={"clarity": 1.0, "depth": 0.5})


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="typed-review", workflow_cls=TypedReviewWorkflow, activities=[score_review],
        build_input=_build_input,
    ))
