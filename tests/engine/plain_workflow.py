"""A workflow without sagaflow's control plane (no status query), for the offline driver."""

from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="PlainWaiting")
class Plain:
    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: False, timeout=timedelta(hours=1))
        return "never"
