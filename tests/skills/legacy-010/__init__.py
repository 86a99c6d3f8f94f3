"""A skill written the sagaflow 0.10 way (test fixture): every name those skills import
beyond the seed API, activities called by name without being listed, free launch text."""

from __future__ import annotations

from typing import Any

from sagaflow.durable.activities import (
    emit_finding,
    finalize_manifest_activity,
    spawn_subagent,
    write_artifact,
)
from sagaflow.prompts import load_claude_skill_prompt
from sagaflow.registry import SkillRegistry, SkillSpec
from sagaflow.slack_progress import report_slack_progress

from .workflow import LegacyInput, LegacyWorkflow


def _build_input(
    *, run_id: str, run_dir: str, inbox_path: str, cli_args: dict[str, Any]
) -> LegacyInput:
    extra = cli_args.get("_extra")
    topic = " ".join(str(x) for x in extra) if isinstance(extra, list) else ""
    if not topic:
        raise ValueError("legacy-010 needs positional topic text")
    return LegacyInput(
        run_id=run_id, run_dir=run_dir, inbox_path=inbox_path, topic=topic,
        system_prompt=load_claude_skill_prompt(
            "legacy-010", "analyst.system", substitutions={"style": "terse"}
        ),
        shell=str(cli_args.get("shell", "echo shell-ran-in $(basename $PWD)")),
        target=str(cli_args.get("target", "")),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(
        SkillSpec(
            name="legacy-010",
            workflow_cls=LegacyWorkflow,
            # run_shell and deliver_artifact_to_slack are called by name without being
            # listed, as sagaflow 0.10 skills do; the listed 0.10 functions are replaced by
            # the worker's own activities of the same name
            activities=[write_artifact, emit_finding, spawn_subagent, report_slack_progress,
                        finalize_manifest_activity],
            build_input=_build_input,
        )
    )
