"""Per-run costs that do not depend on machine load: counts, not seconds.

    python scripts/bench_counts.py [-n 3] [--json]

For one fresh ``sagaflow launch hello-world --await`` and one fresh raw-temporalio
client run (``raw_floor.py run``), both against warm workers, it reports:

* requests the Temporal server's frontend served while the run went (its
  ``service_requests`` metric by operation, from the client and the worker), long
  polls counted apart (they return on timeouts too, so they vary with timing);
* RPCs the client process made, by name (counted by wrapping the SDK's one RPC
  entry point, ``ServiceClient._rpc_call``, in the child process);
* the run's history: events, workflow tasks, activity tasks, local activities
  and other markers, search-attribute upserts, memo and input bytes;
* files the launch left in the home (what accumulates per run);
* fsync calls made by the client process.

Counts are taken over ``-n`` runs and must be equal run to run (they are printed
once when they are, else every run). Everything started here is stopped by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_env import PY, SCRIPTS, Env, Sandbox, log, timed

#: run in the child: count RPCs and fsyncs, dump them at exit (``os._exit`` included)
CHILD = r"""
import collections, json, os, sys
out = os.environ["BENCH_COUNTS_OUT"]
profile = None
if os.environ.get("BENCH_PROFILE_OUT"):
    import cProfile
    profile = cProfile.Profile()
    profile.enable()
rpcs, syncs = collections.Counter(), [0]
import temporalio.service as service
real_rpc = service._BridgeServiceClient._rpc_call
async def counted(self, rpc, *args, **kwargs):
    rpcs[rpc] += 1
    return await real_rpc(self, rpc, *args, **kwargs)
service._BridgeServiceClient._rpc_call = counted
real_fsync = os.fsync
def fsync(fd):
    syncs[0] += 1
    return real_fsync(fd)
os.fsync = fsync
real_exit = os._exit
def dump(code=0):
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    with open(out, "w") as fh:
        json.dump({"rpcs": dict(rpcs), "fsyncs": syncs[0]}, fh)
    real_exit(code)
os._exit = dump
target = sys.argv.pop(1)
if target == "sagaflow":
    sys.argv[0] = "sagaflow"
    from sagaflow.cli.main import main
    main()
else:
    import runpy
    sys.argv[0] = target
    runpy.run_path(target, run_name="__main__")
dump(0)
"""


def server_requests(port: int) -> Counter[str]:
    """The dev server's frontend ``service_requests`` counters by operation (its /metrics
    page): the requests clients and workers made (the history and matching services'
    internal requests are left out)."""
    import re
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as page:
        text = page.read().decode()
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith("service_requests{") and 'service_name="frontend"' in line:
            found = re.search(r'operation="([^"]+)"', line)
            if found:
                counts[found.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return counts


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


async def history_counts(address: str, workflow_id: str) -> dict[str, Any]:
    """Counts of one run's history (see the module docstring)."""
    from temporalio.client import Client

    client = await Client.connect(address)
    handle = client.get_workflow_handle(workflow_id)
    events = (await handle.fetch_history()).events
    kinds: Counter[str] = Counter(
        e.WhichOneof("attributes").removesuffix("_event_attributes") for e in events
    )
    markers: Counter[str] = Counter(
        e.marker_recorded_event_attributes.marker_name for e in events
        if e.HasField("marker_recorded_event_attributes")
    )
    first = events[0].workflow_execution_started_event_attributes
    sequence = []
    for e in events:
        kind = e.WhichOneof("attributes").removesuffix("_event_attributes")
        if kind == "upsert_workflow_search_attributes":
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
            kind += "(" + ",".join(sorted(fields.indexed_fields)) + ")"
        elif kind == "activity_task_scheduled":
            kind += "(" + e.activity_task_scheduled_event_attributes.activity_type.name + ")"
        sequence.append(kind)
    return {
        "sequence": sequence,
        "events": len(events),
        "workflow_tasks": kinds["workflow_task_completed"],
        "activity_tasks": kinds["activity_task_scheduled"],
        "markers": dict(markers),
        "upserts": kinds["upsert_workflow_search_attributes"],
        "input_bytes": first.input.ByteSize(),
        "memo_bytes": first.memo.ByteSize(),
        "start_search_attribute_bytes": first.search_attributes.ByteSize(),
        "history_bytes": sum(e.ByteSize() for e in events),
        "by_type": dict(sorted(kinds.items())),
    }


def _run_id(err: str) -> str:
    for line in err.splitlines():
        if line.startswith("run "):
            return line.split()[1]
    raise RuntimeError(f"no run id in stderr: {err.strip()[-300:]}")


def one(env: Env, side: str, box: Sandbox, out: Path, profile: str = "") -> dict[str, Any]:
    """One fresh client process of ``side``; its counts and its run's history counts."""
    if side == "sagaflow":
        cmd = [PY, "-c", CHILD, "sagaflow", "launch", "hello-world", "--name", "c", "--await"]
        run_env, cwd = dict(box.env), box.work
    else:
        cmd = [PY, "-c", CHILD, str(SCRIPTS / "raw_floor.py"), "run", *env.raw_args(),
               "--name", "c"]
        run_env, cwd = env.raw_env(), env.root
    run_env["BENCH_COUNTS_OUT"] = str(out)
    if profile:
        run_env["BENCH_PROFILE_OUT"] = profile
    before = _tree(box.home)
    time.sleep(1.5)  # the server's metrics lag a little: let the last run's settle
    requests = server_requests(env.metrics_port)
    result = timed(cmd, run_env, cwd)
    if result.code != 0:
        raise RuntimeError(f"{side} exit {result.code}: {result.err.strip()[-400:]}")
    time.sleep(1.5)  # the worker's last completions and re-polls reach the metrics
    served = server_requests(env.metrics_port)
    served.subtract(requests)
    client = json.loads(out.read_text())
    run_id = _run_id(result.err)
    added = sorted(_tree(box.home) - before) if side == "sagaflow" else []
    # long polls are counted when they return (a poller's timeout too), so they vary
    # from run to run with timing: counted apart
    asked = {k: v for k, v in sorted(served.items()) if v and not k.startswith("Poll")}
    return {"server_requests": asked, "server_request_total": sum(asked.values()),
            "server_polls": sum(v for k, v in served.items() if k.startswith("Poll")),
            "client_rpcs": client["rpcs"], "client_rpc_total": sum(client["rpcs"].values()),
            "client_fsyncs": client["fsyncs"],
            "home_files_added": [p for p in added if run_id not in p],
            "run_dir_files": sorted(p.split(run_id, 1)[1] for p in added if run_id in p),
            **asyncio.run(history_counts(env.address, run_id))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="runs per side")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", metavar="FILE", default="",
                        help="also cProfile one more launch of each side into FILE.<side> "
                             "(pstats; cumulative top 30 printed)")
    args = parser.parse_args(argv)
    env = Env()
    found: dict[str, list[dict[str, Any]]] = {"raw": [], "sagaflow": []}
    try:
        env.start_server()
        env.start_fake()
        env.start_raw_worker()
        box = env.sandbox("counts")
        warm = timed([PY, "-m", "sagaflow", "launch", "hello-world", "--name", "w", "--await"],
                     box.env, box.work)
        log(f"warm-up: exit {warm.code} {warm.err.strip()[-200:]!r}")
        for i in range(args.n):
            for side in ("raw", "sagaflow"):
                found[side].append(one(env, side, box, env.root / f"counts-{side}-{i}.json"))
        if args.profile:
            for side in ("raw", "sagaflow"):
                one(env, side, box, env.root / f"profile-{side}.json", f"{args.profile}.{side}")
    finally:
        env.close()
    if args.profile:
        import pstats

        for side in ("raw", "sagaflow"):
            print(f"--- {side}: cProfile, cumulative")
            pstats.Stats(f"{args.profile}.{side}").sort_stats("cumulative").print_stats(30)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    keys = ("server_request_total", "server_requests", "server_polls", "events",
            "workflow_tasks", "activity_tasks", "markers", "upserts", "client_rpcs",
            "client_fsyncs", "home_files_added", "input_bytes", "memo_bytes",
            "start_search_attribute_bytes")
    print("| per run | " + " | ".join(found) + " |\n|---|" + "---|" * len(found))
    for key in keys:
        cells = []
        for runs in found.values():
            values = {json.dumps(r[key], sort_keys=True) for r in runs}
            cells.append(" / ".join(sorted(values)).replace("|", "/"))  # differing runs: all
        print(f"| {key} | " + " | ".join(cells) + " |")
    for side, runs in found.items():
        print(f"\n{side} history: {' '.join(runs[0]['sequence'])}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the temporalio runtime can abort at interpreter exit
