"""Where each run's cost goes: CPU per run in the server, the worker and the client.

    python scripts/bench_cost.py compare  [-n 200] [--reps 3]   # sagaflow vs raw floor
    python scripts/bench_cost.py variants [-n 150] [--reps 3]   # raw workflow + one extra item

Wall-clock throughput on a shared 2-core machine is noisy; CPU seconds charged
to each process (``/proc/PID/stat`` utime+stime, the client's own
``time.process_time``) are much steadier, and they are what bounds throughput
when the cores are saturated. Batches alternate between the compared sides and
each figure is the median over ``--reps`` batches.

``compare`` also prints one run's history of each side (events by type,
payload bytes, memo and search attributes). ``variants`` runs
:mod:`cost_workflow` with one extra item each (memo, search attributes at
start, upserts, a local activity, handlers, larger input) to price each item.
Everything started here is stopped by pid at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench_env import PY, SCRIPTS, Env, log, read_line, timed

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _median_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


# --- history ----------------------------------------------------------------------------


async def history_summary(address: str, workflow_id: str) -> dict[str, Any]:
    """Event counts by type, payload bytes, memo and search attribute sizes of one run."""
    from temporalio.client import Client

    client = await Client.connect(address)
    handle = client.get_workflow_handle(workflow_id)
    history = await handle.fetch_history()
    kinds: Counter[str] = Counter()
    for event in history.events:
        kinds[event.WhichOneof("attributes").removesuffix("_event_attributes")] += 1
    first = history.events[0].workflow_execution_started_event_attributes
    described = await handle.describe()
    raw = described.raw_description.workflow_execution_info
    return {
        "events": len(history.events),
        "bytes": sum(e.ByteSize() for e in history.events),
        "input_bytes": first.input.ByteSize(),
        "memo_bytes": first.memo.ByteSize(),
        "search_attribute_bytes": first.search_attributes.ByteSize(),
        "final_search_attributes": sorted(raw.search_attributes.indexed_fields),
        "by_type": dict(sorted(kinds.items())),
    }


# --- variants: the raw workflow plus one item ---------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "floor (3 activities)": {},
    "+ memo (sagaflow's, 180 B)": {"memo": True},
    "+ 3 search attributes at start": {"sa": True},
    "+ 2 upserts (same tasks)": {"input": {"upserts": 4}},
    "+ 1 local activity": {"input": {"local": 1}},
    "+ query/update/signal handlers": {"input": {"query": True}},
    "+ 1 KB more input": {"input": {"payload": "x" * 1024}},
    "+ 1 activity": {"input": {"acts": 4}},
    "all of sagaflow's extras": {"memo": True, "sa": True,
                                 "input": {"upserts": 4, "query": True}},
}
MEMO = {"skill": "hello-world", "args": {"name": "t1"},
        "sagaflow": {"base_queue": "sagaflow-default", "pool": "default", "budget_usd": None,
                     "timeout_seconds": None, "step_timeouts": {}}}


def _worker_main(args: argparse.Namespace) -> None:
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.worker import Worker

    sys.path.insert(0, str(SCRIPTS))
    from cost_workflow import CostWorkflow

    @activity.defn(name="cost_noop")
    async def cost_noop(value: str) -> str:
        return value

    async def serve() -> None:
        client = await Client.connect(args.address)
        worker = Worker(client, task_queue=args.task_queue, workflows=[CostWorkflow],
                        activities=[cost_noop])
        async with worker:
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(serve())


async def _batch(client: Any, queue: str, spec: dict[str, Any], count: int, conc: int) -> float:
    """Run ``count`` variant workflows, ``conc`` in flight; returns wall seconds."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    from sagaflow._engine.search_attributes import keys

    by_name = keys()
    sa = TypedSearchAttributes([
        SearchAttributePair(by_name["SagaflowSkill"], "hello-world"),
        SearchAttributePair(by_name["SagaflowState"], "running"),
        SearchAttributePair(by_name["SagaflowCostUsd"], 0.0),
    ]) if spec.get("sa") else None
    sem = asyncio.Semaphore(conc)

    async def one() -> None:
        async with sem:
            handle = await client.start_workflow(
                "CostWorkflow", spec.get("input", {}), id=f"cost-{uuid.uuid4().hex[:16]}",
                task_queue=queue, memo=MEMO if spec.get("memo") else None,
                search_attributes=sa,
            )
            await asyncio.wait_for(handle.result(), timeout=60)

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.monotonic() - started


async def _variants(env: Env, worker_pid: int, queue: str, count: int, reps: int,
                    conc: int) -> dict[str, dict[str, float]]:
    from temporalio.client import Client

    from sagaflow._engine.search_attributes import ensure_registered

    server_pid = next(p.pid for n, p in env.procs if n == "temporal")
    client = await Client.connect(env.address)
    await ensure_registered(client, client.namespace)
    await _batch(client, queue, {}, 20, conc)  # warm-up
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    for rep in range(reps):
        for name, spec in VARIANTS.items():
            s0, w0, c0 = cpu_of(server_pid), cpu_of(worker_pid), time.process_time()
            wall = await _batch(client, queue, spec, count, conc)
            s1, w1, c1 = cpu_of(server_pid), cpu_of(worker_pid), time.process_time()
            samples[name].append({
                "server_ms": 1000 * (s1 - s0) / count, "worker_ms": 1000 * (w1 - w0) / count,
                "client_ms": 1000 * (c1 - c0) / count, "runs_per_s": count / wall,
            })
            log(f"variants rep {rep + 1}: {name}: {samples[name][-1]}")
    return {name: _median_rows(rows) for name, rows in samples.items()}


def variants(args: argparse.Namespace) -> None:
    env = Env(keep=args.keep)
    try:
        env.start_server()
        queue = f"cost-{uuid.uuid4().hex[:8]}"
        proc = env._spawn("cost-worker", [PY, __file__, "worker", "--address", env.address,
                                          "--task-queue", queue], stdout=subprocess.PIPE)
        if read_line(proc, 60.0) != "ready":
            raise RuntimeError("cost worker did not report ready")
        table = asyncio.run(_variants(env, proc.pid, queue, args.n, args.reps, args.conc))
    finally:
        env.close()
    base = table["floor (3 activities)"]
    print(f"| variant (N={args.n} × {args.reps}, median) | server CPU ms/run | Δ server | "
          "worker CPU ms/run | Δ worker | client CPU ms/run | runs/s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in table.items():
        print(f"| {name} | {r['server_ms']:.1f} | {r['server_ms'] - base['server_ms']:+.1f} | "
              f"{r['worker_ms']:.1f} | {r['worker_ms'] - base['worker_ms']:+.1f} | "
              f"{r['client_ms']:.1f} | {r['runs_per_s']:.1f} |")


# --- compare: sagaflow hello-world vs the raw floor ----------------------------------------


def _driver_json(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> dict[str, Any]:
    result = timed(cmd, env, cwd, timeout=timeout)
    for line in reversed(result.out.strip().splitlines()):
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return data
    raise RuntimeError(f"driver exit {result.code}: {result.err.strip()[-400:]}")


def compare(args: argparse.Namespace) -> None:
    env = Env(keep=args.keep)
    try:
        env.start_server()
        env.start_fake()
        env.start_raw_worker()
        box = env.sandbox("cost")
        server_pid = next(p.pid for n, p in env.procs if n == "temporal")
        raw_pid = next(p.pid for n, p in env.procs if n == "raw-worker")
        sf_cmd = [PY, str(SCRIPTS / "sf_throughput.py"), "--count", str(args.n),
                  "--concurrency", str(args.conc)]
        raw_cmd = [PY, str(SCRIPTS / "raw_floor.py"), "many", *env.raw_args(),
                   "--count", str(args.n), "--concurrency", str(args.conc)]
        _driver_json([*sf_cmd[:2], "--count", "10"], box.env, box.work, 120)
        _driver_json([*raw_cmd[:-4], "--count", "10"], env.raw_env(), env.root, 120)
        sf_pid = box.worker_pid()
        assert sf_pid, "sagaflow worker daemon did not start"
        sides = {"raw": (raw_cmd, env.raw_env(), env.root, raw_pid),
                 "sagaflow": (sf_cmd, box.env, box.work, sf_pid)}
        samples: dict[str, list[dict[str, float]]] = {"raw": [], "sagaflow": []}
        last: dict[str, dict[str, Any]] = {}
        for rep in range(args.reps):
            for side in (("raw", "sagaflow") if rep % 2 == 0 else ("sagaflow", "raw")):
                cmd, run_env, cwd, worker_pid = sides[side]
                s0, w0 = cpu_of(server_pid), cpu_of(worker_pid)
                out = _driver_json(cmd, run_env, cwd, 60.0 + args.n)
                s1, w1 = cpu_of(server_pid), cpu_of(worker_pid)
                last[side] = out
                n = args.n
                samples[side].append({
                    "server_ms": 1000 * (s1 - s0) / n, "worker_ms": 1000 * (w1 - w0) / n,
                    "client_ms": 1000 * float(out.get("cpu_s", 0.0)) / n,
                    "runs_per_s": float(out["per_sec"]),
                })
                log(f"compare rep {rep + 1}: {side}: {samples[side][-1]} "
                    f"errors {out['error_count']}")
        table = {side: _median_rows(rows) for side, rows in samples.items()}
        ratios = [s["runs_per_s"] / r["runs_per_s"]
                  for s, r in zip(samples["sagaflow"], samples["raw"], strict=True)]
        histories = {
            side: asyncio.run(history_summary(env.address, str(last[side]["last_id"])))
            for side in ("raw", "sagaflow") if last[side].get("last_id")
        }
    finally:
        env.close()
    print(f"| per run (N={args.n} × {args.reps}, median) | raw floor | sagaflow | Δ |")
    print("|---|---|---|---|")
    for key in ("server_ms", "worker_ms", "client_ms", "runs_per_s"):
        r, s = table["raw"][key], table["sagaflow"][key]
        print(f"| {key} | {r:.1f} | {s:.1f} | {s - r:+.1f} |")
    print(f"\nthroughput ratio per rep: {', '.join(f'{x:.2f}' for x in ratios)} "
          f"(median {statistics.median(ratios):.2f})\n")
    for side, summary in histories.items():
        print(f"{side} history: {json.dumps(summary)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("compare", "variants", "worker"))
    parser.add_argument("-n", type=int, default=150, help="runs per batch")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--conc", type=int, default=20, help="runs in flight")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--address", default="")
    parser.add_argument("--task-queue", default="")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        _worker_main(args)
    elif args.mode == "variants":
        variants(args)
    else:
        compare(args)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the temporalio runtime can abort at interpreter exit
