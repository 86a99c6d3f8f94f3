from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import (
        EmitFindingInput,
        FinalizeManifestInput,
        RunShellInput,
        RunShellResult,
        SpawnSubagentInput,
        WriteArtifactInput,
    )
    from sagaflow.durable.retry_policies import HAIKU_POLICY
    from sagaflow.slack_progress import DeliverArtifactInput, ReportSlackProgressInput
    from sagaflow.temporal_client import TASK_QUEUE

    from .state import LegacyState

SCHEMA = {
    "type": "object",
    "properties": {
        "TITLE": {"type": "string"},
        "POINTS": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["TITLE", "POINTS"],
    "additionalProperties": False,
}
_T = timedelta(seconds=30)


@dataclass(frozen=True)
class LegacyInput:
    run_id: str
    run_dir: str
    inbox_path: str
    topic: str
    system_prompt: str
    shell: str
    #: a file for a tools_needed=True reviewer step ("" skips it, as older runs did)
    target: str = ""


@workflow.defn(name="Legacy010Workflow")
class LegacyWorkflow:
    @workflow.run
    async def run(self, inp: LegacyInput) -> str:
        state = LegacyState(run_id=inp.run_id, skill="legacy-010")
        prompt = f"{inp.run_dir}/analyst-prompt.txt"
        await workflow.execute_activity(
            "write_artifact", WriteArtifactInput(path=prompt, content=f"Analyse: {inp.topic}"),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
        )
        out: dict[str, str] = await workflow.execute_activity(
            "spawn_subagent",
            SpawnSubagentInput(
                role="analyst", tier_name="HAIKU", system_prompt=inp.system_prompt,
                user_prompt_path=prompt, tools_needed=False, max_tokens=500,
                output_schema=SCHEMA, run_dir=inp.run_dir, mcp_config_path=None,
            ),
            start_to_close_timeout=timedelta(seconds=120), retry_policy=HAIKU_POLICY,
        )
        if inp.target:  # a 0.10 reviewer: its prompt says to read the file, with tools
            review = f"{inp.run_dir}/reviewer-prompt.txt"
            await workflow.execute_activity(
                "write_artifact", WriteArtifactInput(
                    path=review, content=f"Review: read the target file {inp.target}."),
                start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
            )
            out = await workflow.execute_activity(
                "spawn_subagent",
                SpawnSubagentInput(
                    role="reviewer", tier_name="HAIKU", system_prompt=inp.system_prompt,
                    user_prompt_path=review, tools_needed=True, max_tokens=500,
                    output_schema=SCHEMA, run_dir=inp.run_dir,
                ),
                start_to_close_timeout=timedelta(seconds=120), retry_policy=HAIKU_POLICY,
            )
        state.points = json.loads(out["POINTS"])
        state.add_cost(input_tokens=1000, output_tokens=100, haiku=True)
        shell: RunShellResult = await workflow.execute_activity(
            "run_shell", RunShellInput(command=inp.shell, timeout_seconds=5, label="probe"),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY, task_queue=TASK_QUEUE,
            result_type=RunShellResult,
        )
        report = f"{inp.run_dir}/report.md"
        for line in (f"# {out['TITLE']}\n", *(f"- {p}\n" for p in state.points)):
            await workflow.execute_activity(
                "write_artifact", WriteArtifactInput(path=report, content=line, append=True),
                start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
            )
        await workflow.execute_activity(
            "report_slack_progress",
            ReportSlackProgressInput(
                run_dir=inp.run_dir, title=f"legacy-010: {inp.topic}", final=True,
                steps=({"name": "analyse", "status": "completed", "detail": out["TITLE"]},),
            ),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
        )
        await workflow.execute_activity(
            "deliver_artifact_to_slack",
            DeliverArtifactInput(run_dir=inp.run_dir, artifact_path=report, comment="report"),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
        )
        state.set_terminal("done")
        await workflow.execute_activity(
            "finalize_manifest",
            FinalizeManifestInput(
                run_dir=inp.run_dir, status="completed", termination_label=state.terminal_label or "",
            ),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
        )
        summary = (
            f"{out['TITLE']}: {len(state.points)} points; shell exit {shell.exit_code} "
            f"{shell.stdout.strip()}; timed_out={shell.timed_out}; "
            f"estimate ${state.cost_running_total:.4f}"
        )
        await workflow.execute_activity(
            "emit_finding",
            EmitFindingInput(
                inbox_path=inp.inbox_path, run_id=inp.run_id, skill="legacy-010",
                status="DONE", summary=summary, notify=False,
                timestamp_iso=workflow.now().isoformat(),
            ),
            start_to_close_timeout=_T, retry_policy=HAIKU_POLICY,
        )
        return summary
