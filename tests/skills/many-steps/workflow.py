from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import SpawnSubagentInput, WriteArtifactInput
    from sagaflow.durable.retry_policies import HAIKU_POLICY


@dataclass(frozen=True)
class ManyStepsInput:
    run_id: str
    run_dir: str
    inbox_path: str
    steps: int
    subagent: bool
    pause_seconds: float
    system_prompt: str
    user_prompt: str


@workflow.defn(name="ManyStepsWorkflow")
class ManyStepsWorkflow:
    @workflow.run
    async def run(self, inp: ManyStepsInput) -> str:
        for i in range(inp.steps):
            await workflow.execute_activity(
                "write_artifact",
                WriteArtifactInput(path=f"{inp.run_dir}/step-{i:04d}.txt", content=f"step {i}\n"),
                start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
            )
        if inp.pause_seconds > 0:
            await workflow.sleep(inp.pause_seconds)
        if not inp.subagent:
            return f"{inp.steps} steps"
        path = f"{inp.run_dir}/prompt.txt"
        await workflow.execute_activity(
            "write_artifact", WriteArtifactInput(path=path, content=inp.user_prompt),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
        )
        parsed = await workflow.execute_activity(
            "spawn_subagent",
            SpawnSubagentInput(
                role="counter", tier_name="HAIKU", system_prompt=inp.system_prompt,
                user_prompt_path=path, max_tokens=64,
            ),
            start_to_close_timeout=timedelta(seconds=120),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=HAIKU_POLICY,
        )
        return f"{inp.steps} steps, {parsed.get('RESULT', 'no result')}"
