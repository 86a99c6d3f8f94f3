from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import (
        EmitFindingInput, SpawnSubagentInput, WriteArtifactInput,
    )
    from sagaflow.durable.retry_policies import HAIKU_POLICY


@dataclass(frozen=True)
class TwoStepInput:
    run_id: str
    run_dir: str
    inbox_path: str
    system_prompt: str
    first_prompt: str
    second_prompt: str


@workflow.defn(name="TwoStepWorkflow")
class TwoStepWorkflow:
    @workflow.run
    async def run(self, inp: TwoStepInput) -> str:
        results = []
        for role, prompt in (("first", inp.first_prompt), ("second", inp.second_prompt)):
            path = f"{inp.run_dir}/{role}.txt"
            await workflow.execute_activity(
                "write_artifact", WriteArtifactInput(path=path, content=prompt),
                start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
            )
            parsed = await workflow.execute_activity(
                "spawn_subagent",
                SpawnSubagentInput(
                    role=role, tier_name="SONNET", system_prompt=inp.system_prompt,
                    user_prompt_path=path, max_tokens=200,
                ),
                start_to_close_timeout=timedelta(seconds=300),
                heartbeat_timeout=timedelta(seconds=120),
                retry_policy=HAIKU_POLICY,
            )
            results.append(parsed.get("RESULT", "?"))
        summary = " + ".join(results)
        await workflow.execute_activity(
            "emit_finding",
            EmitFindingInput(
                inbox_path=inp.inbox_path, run_id=inp.run_id, skill="two-step",
                status="DONE", summary=summary,
            ),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
        )
        return summary
