from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import (
        EmitFindingInput, SpawnSubagentInput, WriteArtifactInput,
    )

POLICY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=100))


@dataclass(frozen=True)
class ArtifactPathInput:
    run_id: str
    inbox_path: str
    path: str
    prompt: str = ""
    output: str = ""
    pause_seconds: float = 0.0


@workflow.defn(name="ArtifactPathWorkflow")
class ArtifactPathWorkflow:
    @workflow.run
    async def run(self, inp: ArtifactPathInput) -> str:
        await workflow.execute_activity(
            "write_artifact", WriteArtifactInput(path=inp.path, content="artifact"),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=POLICY,
        )
        summary = "wrote"
        if inp.pause_seconds > 0:
            await workflow.sleep(inp.pause_seconds)
        if inp.prompt or inp.output:
            parsed = await workflow.execute_activity(
                "spawn_subagent",
                SpawnSubagentInput(
                    role="reader", tier_name="HAIKU", system_prompt="Answer.",
                    user_prompt_path=inp.prompt or inp.path, max_tokens=64,
                    output_path=inp.output,
                ),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=POLICY,
            )
            summary = f"wrote, model said {parsed.get('RESULT', '?')}"
        await workflow.execute_activity(
            "emit_finding",
            EmitFindingInput(inbox_path=inp.inbox_path, run_id=inp.run_id,
                             skill="artifact-path", status="DONE", summary=summary),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=POLICY,
        )
        return summary
