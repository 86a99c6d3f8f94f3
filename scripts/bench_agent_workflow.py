"""The floor for scripts/bench_agent.py: N no-op activities in sequence (own module: the
workflow sandbox re-imports a workflow's module by name)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(n: int) -> dict[str, int]:
    return {"n": n}


@workflow.defn(name="BenchRawLoop")
class RawLoop:
    @workflow.run
    async def run(self, count: int) -> int:
        for n in range(count):
            await workflow.execute_activity(
                "bench_noop", n, start_to_close_timeout=timedelta(seconds=30))
        return count
