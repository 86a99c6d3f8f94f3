"""The workflow of the loop-lag probe: model steps and an artifact write, all at once.

Its own module so the workflow sandbox can re-import it by name (``tests/engine`` is
on ``sys.path`` in the probe's process).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import SpawnSubagentInput, WriteArtifactInput


@dataclass
class LagInput:
    """One ``spawn_subagent`` per prompt file and one ``write_artifact`` of ``artifact_bytes``."""

    run_dir: str
    prompts: list[str] = field(default_factory=list)
    artifact_bytes: int = 0


@workflow.defn(name="TestLagWorkflow")
class LagWorkflow:
    @workflow.run
    async def run(self, inp: LagInput) -> list[Any]:
        steps = [
            workflow.execute_activity(
                "spawn_subagent",
                SpawnSubagentInput(role=f"step{i}", tier_name="HAIKU", system_prompt="sys",
                                   user_prompt_path=path),
                start_to_close_timeout=timedelta(seconds=120),
                heartbeat_timeout=timedelta(seconds=3),
                result_type=dict,
            )
            for i, path in enumerate(inp.prompts)
        ]
        steps.append(workflow.execute_activity(
            "write_artifact",
            WriteArtifactInput(path=f"{inp.run_dir}/artifact.txt", content="a" * inp.artifact_bytes),
            start_to_close_timeout=timedelta(seconds=60),
        ))
        return list(await asyncio.gather(*steps))
