"""Where each run's cost goes: CPU per run in the server, the worker and the client.

    python scripts/bench_cost.py compare  [-n 200] [--reps 3]   # sagaflow vs raw floor
    python scripts/bench_cost.py variants [-n 150] [--reps 3]   # raw workflow + one extra item
    python scripts/bench_cost.py latency  [-n 20]               # fresh launch --await, split

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

#: what a hello-world run carried before issue 7's per-run work (a cost upsert after the
#: model call became a workflow.patched marker, an early heartbeat) and after it
SAGAFLOW_BEFORE: dict[str, Any] = {"patched_after": [1], "final_upsert": 2, "beat": 3,
                                   "query": True, "pad": "x" * 300}
SAGAFLOW_ITEMS: dict[str, Any] = {"final_upsert": 2, "beat": 3, "beat_late": True,
                                  "query": True, "pad": "x" * 300}
VARIANTS: dict[str, dict[str, Any]] = {
    "floor (3 activities)": {},
    "+ memo (sagaflow's, with the run config)": {"memo": True},
    "+ 3 search attributes at start": {"sa": True},
    "+ 1 upsert after an activity": {"input": {"upsert_after": [1]}},
    "+ 1 upsert (2 attributes) beside the completion": {"input": {"final_upsert": 2}},
    "+ 1 heartbeat (3 s heartbeat timeout)": {"input": {"beat": 3}},
    "+ 3 s heartbeat timeout, heartbeat only after 0.5 s": {"input": {"beat": 3, "beat_late": True}},
    "+ 1 local activity": {"input": {"local": 1}},
    "+ query/update/signal handlers": {"input": {"query": True}},
    "+ 1 KB more workflow input": {"input": {"pad": "x" * 1024}},
    "+ 1 workflow.patched call (marker + TemporalChangeVersion upsert)": {
        "input": {"patched_after": [1]}},
    "+ 1 activity": {"input": {"acts": 4}},
    "sagaflow's items before (memo, 3 attributes, patched, closing upsert, early heartbeat, "
    "handlers)": {"memo": True, "sa": True, "input": SAGAFLOW_BEFORE},
    "sagaflow's items now (memo, 3 attributes, closing upsert, handlers)": {
        "memo": True, "sa": True, "input": SAGAFLOW_ITEMS},
}
def sagaflow_memo() -> dict[str, Any]:
    """The memo launch writes for a hello-world run (options with the run's config)."""
    from sagaflow._engine.meta import RunConfig, RunOptions, memo_for
    from sagaflow.config import Settings

    config = RunConfig.from_settings(Settings(), "anthropic", "/home/u/skills/hello-world")
    return memo_for("hello-world", {"name": "t1"},
                    RunOptions(base_queue="sagaflow-default", config=config))


def _worker_main(args: argparse.Namespace) -> None:
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.worker import Worker

    sys.path.insert(0, str(SCRIPTS))
    from cost_workflow import CostWorkflow

    @activity.defn(name="cost_noop")
    async def cost_noop(value: str) -> str:
        return value

    @activity.defn(name="cost_beat")
    async def cost_beat(mode: str) -> str:
        if mode == "late":  # heartbeat only if the call outlives 0.5 s (it does not)
            return ""
        activity.heartbeat()
        await asyncio.sleep(0.01)  # the SDK sends the first heartbeat at once
        return ""

    async def serve() -> None:
        client = await Client.connect(args.address)
        worker = Worker(client, task_queue=args.task_queue, workflows=[CostWorkflow],
                        activities=[cost_noop, cost_beat])
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
                task_queue=queue, memo=sagaflow_memo() if spec.get("memo") else None,
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


# --- latency: where a fresh `launch --await` spends its time ---------------------------------

IMPORTS = {
    "raw floor (temporalio.client)": "import temporalio.client",
    "sagaflow launch path": "import sagaflow.cli.main, sagaflow.cli.launching, sagaflow.runs.launch",
    "+ config, server, envconfig, search attributes": (
        "import sagaflow.cli.main, sagaflow.cli.launching, sagaflow.runs.launch, sagaflow.config, "
        "sagaflow._engine.server, sagaflow._engine.search_attributes, temporalio.envconfig"),
}


def _run_id(err: str) -> str | None:
    for line in err.splitlines():
        if line.startswith("run "):
            return line.split()[1]
    return None


async def _in_temporal(address: str, ids: list[str]) -> tuple[list[float], list[list[Any]]]:
    """Seconds from each run's first to its last history event, and each run's steps.

    A step is ``(event type, seconds since the previous event)``; upsert events
    are left out (they share their workflow task's completion time).
    """
    from temporalio.client import Client

    client = await Client.connect(address)
    spans, steps = [], []
    for wid in ids:
        events = (await client.get_workflow_handle(wid).fetch_history()).events
        times = [e.event_time.ToDatetime().timestamp() for e in events]
        spans.append(times[-1] - times[0])
        kinds = [e.WhichOneof("attributes").removesuffix("_event_attributes") for e in events]
        kept = [(k, t) for k, t in zip(kinds, times, strict=True) if not k.startswith("upsert")]
        steps.append([(k, t - kept[i - 1][1] if i else 0.0) for i, (k, t) in enumerate(kept)])
    return spans, steps


def _step_table(steps: dict[str, list[list[Any]]]) -> None:
    """Median gap before each history event, raw and sagaflow side by side."""
    shape = {side: [k for k, _ in runs[0]] for side, runs in steps.items() if runs}
    if len(set(map(tuple, shape.values()))) != 1:
        print(f"histories differ in shape: {shape}")
        return
    print("| history event (median ms since previous) | raw floor | sagaflow | Δ |")
    print("|---|---|---|---|")
    for i, kind in enumerate(shape["raw"]):
        r = 1000 * statistics.median(run[i][1] for run in steps["raw"])
        s = 1000 * statistics.median(run[i][1] for run in steps["sagaflow"])
        print(f"| {i + 1}. {kind} | {r:.1f} | {s:.1f} | {s - r:+.1f} |")


def latency(args: argparse.Namespace) -> None:
    from bench_env import SAGAFLOW

    env = Env(keep=args.keep)
    walls: dict[str, list[float]] = {"raw": [], "sagaflow": []}
    ids: dict[str, list[str]] = {"raw": [], "sagaflow": []}
    imports: dict[str, list[float]] = {name: [] for name in IMPORTS}
    try:
        env.start_server()
        env.start_fake()
        env.start_raw_worker()
        box = env.sandbox("latency")
        cmds = {
            "sagaflow": ([*SAGAFLOW, "launch", "hello-world", "--name", "bench", "--await"],
                         box.env, box.work),
            "raw": ([PY, str(SCRIPTS / "raw_floor.py"), "run", *env.raw_args(), "--name", "bench"],
                    env.raw_env(), env.root),
        }
        for cmd, run_env, cwd in cmds.values():
            timed(cmd, run_env, cwd)  # warm-up: the sagaflow daemon starts here
        for i in range(args.n):
            for side in ("raw", "sagaflow") if i % 2 == 0 else ("sagaflow", "raw"):
                cmd, run_env, cwd = cmds[side]
                result = timed(cmd, run_env, cwd)
                rid = _run_id(result.err)
                if result.code == 0 and rid:
                    walls[side].append(result.seconds)
                    ids[side].append(rid)
            for name, code in IMPORTS.items():
                imports[name].append(timed([PY, "-c", code], box.env, box.work).seconds)
        found = {side: asyncio.run(_in_temporal(env.address, ids[side])) for side in ids}
        spans = {side: found[side][0] for side in found}
    finally:
        env.close()
    print(f"| fresh process, N={args.n} alternated (median s) | raw floor | sagaflow | Δ |")
    print("|---|---|---|---|")
    med = {side: statistics.median(walls[side]) for side in walls}
    inside = {side: statistics.median(spans[side]) for side in spans}
    outside = {side: statistics.median(w - s for w, s in zip(walls[side], spans[side], strict=True))
               for side in walls}
    for label, table in (("wall, start to result", med), ("in Temporal (first→last event)", inside),
                         ("outside Temporal (process, imports, client)", outside)):
        print(f"| {label} | {table['raw']:.3f} | {table['sagaflow']:.3f} | "
              f"{table['sagaflow'] - table['raw']:+.3f} |")
    print(f"\nratio {med['sagaflow'] / med['raw']:.2f}\n")
    _step_table({side: found[side][1] for side in found})
    print("\n| imports only (fresh process, median s) | wall |\n|---|---|")
    for name, values in imports.items():
        print(f"| {name} | {statistics.median(values):.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("compare", "variants", "latency", "worker"))
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
    elif args.mode == "latency":
        latency(args)
    else:
        compare(args)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the temporalio runtime can abort at interpreter exit
