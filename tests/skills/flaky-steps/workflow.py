from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import (
        EmitFindingInput, SpawnSubagentInput, WriteArtifactInput,
    )
    from sagaflow.durable.retry_policies import HAIKU_POLICY

STEPS = (("one", "Step one"), ("two", "Step two"), ("three", "Step three"))


@dataclass(frozen=True)
class FlakyStepsInput:
    run_id: str
    run_dir: str
    inbox_path: str
    topic: str


@workflow.defn(name="FlakyStepsWorkflow")
class FlakyStepsWorkflow:
    @workflow.run
    async def run(self, inp: FlakyStepsInput) -> str:
        results = []
        for role, prompt in STEPS:
            path = f"{inp.run_dir}/{role}.txt"
            await workflow.execute_activity(
                "write_artifact", WriteArtifactInput(path=path, content=f"{prompt} about {inp.topic}"),
                start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
            )
            parsed = await workflow.execute_activity(
                "spawn_subagent",
                SpawnSubagentInput(
                    role=role, tier_name="HAIKU", system_prompt="Answer with RESULT|...",
                    user_prompt_path=path, max_tokens=64,
                ),
                start_to_close_timeout=timedelta(seconds=120),
                retry_policy=HAIKU_POLICY,
            )
            results.append(parsed.get("RESULT", "?"))
        summary = " + ".join(results)
        await workflow.execute_activity(
            "emit_finding",
            EmitFindingInput(
                inbox_path=inp.inbox_path, run_id=inp.run_id, skill="flaky-steps",
                status="DONE", summary=summary,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
            ),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
        )
        return summary
