"""critique: ``sagaflow launch critique --text "..." [--critics clarity,evidence]``."""

from typing import Any

from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.critique.workflow import Critic, CritiqueInput, CritiqueWorkflow

#: every critic has a system prompt prompts/critic.<name>.md
CRITICS = ("clarity", "evidence", "audience")


def _build_input(*, run_id, run_dir, inbox_path, cli_args: dict[str, Any]) -> CritiqueInput:
    text = str(cli_args["text"]).strip()
    if not text:
        raise ValueError("--text is empty; pass the text to critique")
    wanted = [c.strip() for c in str(cli_args.get("critics", ",".join(CRITICS))).split(",") if c.strip()]
    unknown = [c for c in wanted if c not in CRITICS]
    if unknown or not wanted:
        raise ValueError(f"--critics takes a comma-separated list of {', '.join(CRITICS)}, "
                         f"not {','.join(unknown) or 'nothing'}")
    return CritiqueInput(
        text=text,
        critics=[Critic(name, load_prompt(__file__, f"critic.{name}")) for name in dict.fromkeys(wanted)],
        critic_prompt=load_prompt(__file__, "critic.user"),
        judge_system=load_prompt(__file__, "judge.system"),
        judge_prompt=load_prompt(__file__, "judge.user"),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="critique",
        workflow_cls=CritiqueWorkflow,
        build_input=_build_input,
        arguments=["text!", "critics"],
        description="Critics review a text in parallel; a judge weighs their notes (example).",
    ))
