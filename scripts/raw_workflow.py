"""The raw-temporalio floor's workflow: the same three steps as hello-world.

Kept in its own module (importable by name from ``scripts/``) because Temporal's
workflow sandbox re-imports a workflow's module on every run. Activities are
referenced by name only, so nothing heavy enters the sandbox.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

WORKFLOW_NAME = "RawHelloWorkflow"


@workflow.defn(name=WORKFLOW_NAME)
class RawHelloWorkflow:
    """write prompt file → streaming model call → append a line to a file."""

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> str:
        prompt_path = f"{inp['run_dir']}/prompt.txt"
        await workflow.execute_activity(
            "raw_write",
            args=[prompt_path, f"Greet {inp['name']}"],
            start_to_close_timeout=timedelta(seconds=10),
        )
        greeting: str = await workflow.execute_activity(
            "raw_model",
            args=[prompt_path],
            start_to_close_timeout=timedelta(seconds=600),
        )
        await workflow.execute_activity(
            "raw_append",
            args=[inp["inbox"], f"{workflow.info().workflow_id} DONE {greeting}"],
            start_to_close_timeout=timedelta(seconds=10),
        )
        return greeting
