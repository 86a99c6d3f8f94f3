"""refine: ``sagaflow launch refine --topic "tide pools" [--target 8] [--rounds 3]``."""

from typing import Any

from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.refine.workflow import RefineInput, RefineWorkflow


def _whole(cli_args: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    raw = str(cli_args.get(key, default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"--{key} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def _build_input(*, run_id, run_dir, inbox_path, cli_args: dict[str, Any]) -> RefineInput:
    topic = str(cli_args["topic"]).strip()
    if not topic:
        raise ValueError("--topic is empty; say what the paragraph is about")
    return RefineInput(
        topic=topic,
        target=_whole(cli_args, "target", 8, 1, 10),
        rounds=_whole(cli_args, "rounds", 3, 1, 10),
        writer_system=load_prompt(__file__, "writer.system"),
        draft_prompt=load_prompt(__file__, "draft.user", substitutions={"topic": topic}),
        revise_prompt=load_prompt(__file__, "revise.user"),
        critic_system=load_prompt(__file__, "critic.system"),
        critique_prompt=load_prompt(__file__, "critique.user"),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="refine",
        workflow_cls=RefineWorkflow,
        build_input=_build_input,
        arguments=["topic!", "target", "rounds"],
        description="Draft a paragraph, then critique and revise it until it scores well (example).",
    ))
