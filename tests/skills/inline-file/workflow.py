from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import SpawnSubagentInput, WriteArtifactInput


@dataclass(frozen=True)
class InlineInput:
    run_dir: str
    content: str


@workflow.defn(name="InlineFileWorkflow")
class InlineWorkflow:
    @workflow.run
    async def run(self, inp: InlineInput) -> str:
        path = f"{inp.run_dir}/prompt.txt"
        await workflow.execute_activity(
            "write_artifact", WriteArtifactInput(path=path, content=f"summarize {inp.content}"),
            start_to_close_timeout=timedelta(seconds=10),
        )
        parsed = await workflow.execute_activity(
            "spawn_subagent",
            SpawnSubagentInput(role="reader", tier_name="SONNET", system_prompt="s",
                               user_prompt_path=path, max_tokens=100),
            start_to_close_timeout=timedelta(seconds=60),
        )
        return str(parsed.get("RESULT", "?"))
