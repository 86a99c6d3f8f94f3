"""Workflows for scripts/bench_parallel.py (own module: the workflow sandbox re-imports a
workflow's module by name).

* ``BenchParallelAsk``: sagaflow's ``parallel`` of N ``ask_model`` calls, M at a time;
* ``BenchRawFanout``: raw temporalio, N trivial activities, M at a time (the floor).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import ask_model, parallel


@activity.defn(name="bench_fanout_noop")
async def noop(n: int) -> dict[str, int]:
    return {"n": n}


@workflow.defn(name="BenchRawFanout")
class RawFanout:
    @workflow.run
    async def run(self, spec: list[int]) -> int:
        count, bound = spec
        slots = asyncio.Semaphore(bound)

        async def one(n: int) -> dict[str, int]:
            async with slots:
                return await workflow.execute_activity(  # type: ignore[no-any-return]
                    "bench_fanout_noop", n, start_to_close_timeout=timedelta(seconds=30))

        done = await asyncio.gather(*(one(n) for n in range(count)))
        return len(done)


@workflow.defn(name="BenchParallelAsk")
class ParallelAsk:
    @workflow.run
    async def run(self, spec: list[int]) -> int:
        count, bound = spec
        replies = await parallel(
            [lambda n=n: ask_model(f"item {n}", role=f"item{n}")  # type: ignore[misc]
             for n in range(count)],
            max_concurrency=bound,
        )
        return len(replies)
