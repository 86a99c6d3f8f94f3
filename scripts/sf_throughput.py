"""sagaflow throughput driver: many hello-world runs through the daemon worker.

Runs in the benchmark's sagaflow environment (SAGAFLOW_HOME, TEMPORAL_ADDRESS, ...).
``--mode library`` (default) does what ``sagaflow launch`` does, once: load the
skills, connect, make sure the worker runs; then per run what it does per run:
``prepare``, the memo options with the run's config, the start-size check and
``runs.start`` on the shared client. ``--mode launch`` calls
``launch_flow.launch(..., wait=False)`` per run (which also re-discovers skills,
reconnects and checks the worker every time). Either way ``--concurrency`` runs
are in flight; results are awaited on one client. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

SKILL = "hello-world"


async def _starter(mode: str) -> tuple[Any, Callable[[int], Awaitable[Any]]]:
    """(client for awaiting, coroutine starting run i and returning its handle)."""
    from sagaflow._engine import daemon
    from sagaflow._engine.client import connect, ensure_temporal
    from sagaflow._engine.meta import DEFAULT_POOL, RunConfig, RunOptions, memo_for
    from sagaflow.config import load_settings
    from sagaflow.paths import Home
    from sagaflow.runs import start as runs
    from sagaflow.runs.launch import launch
    from sagaflow.runs.payload_size import check_start_size
    from sagaflow.skills.discovery import load_skills
    from sagaflow.skills.prepare import prepare

    home = Home.current()
    settings = load_settings(home)
    home.ensure(home.runs, home.logs)
    loaded = load_skills(only=SKILL)
    client = await ensure_temporal(settings)
    # as launch does: snapshot the build, make sure its worker runs, make it current,
    # and start every run pinned to it (Worker Versioning)
    from sagaflow._engine import versioning
    from sagaflow.runs.launch import _skill_dir
    from sagaflow.skills import builds

    build = builds.make(home, loaded.sources)
    daemon.serve_build(home, settings, build=build)
    await versioning.make_current(client, home, settings.task_queue, build.id)
    override = versioning.pinned(settings.task_queue, build.id)

    async def library(i: int) -> Any:
        prepared = prepare(home, settings, loaded, SKILL, {"name": f"t{i}"})
        # the memo options and the size check exactly as runs.launch.launch builds them
        options = RunOptions(
            base_queue=settings.task_queue, pool=DEFAULT_POOL,
            step_timeouts=settings.step_timeouts_for(SKILL),
            config=RunConfig.from_settings(
                settings, prepared.record.transport,
                _skill_dir(build, prepared.record.skill_dir), workspace=os.getcwd(),
            ),
        )
        await check_start_size(
            client.data_converter, prepared.run_id, prepared.workflow_input,
            memo_for(prepared.record.skill, prepared.record.args, options), prepared.record.args,
        )
        handle, _fresh = await versioning.start_when_known(lambda: runs.start(
            client, settings, prepared, options=options, home=home,
            versioning_override=override,
        ))
        return handle

    async def via_launch(i: int) -> Any:
        outcome = await launch(home, settings, SKILL, {"name": f"t{i}"}, wait=False)
        return client.get_workflow_handle(outcome.run_id)

    if mode == "launch":
        return await connect(settings), via_launch
    return client, library


async def _drive(args: argparse.Namespace) -> dict[str, Any]:
    client, start = await _starter(args.mode)
    del client
    sem = asyncio.Semaphore(args.concurrency)
    starts: list[float] = []
    ends: list[float] = []
    errors: list[str] = []
    ids: list[str] = []
    cpu = time.process_time()

    async def one(i: int) -> None:
        async with sem:
            try:
                starts.append(time.monotonic())
                handle = await start(i)
                ids.append(handle.id)
                result = await asyncio.wait_for(handle.result(), timeout=args.timeout)
                if result != f"hello, t{i}":
                    errors.append(f"run {i}: unexpected result {result!r}")
            except Exception as exc:
                errors.append(f"run {i}: {type(exc).__name__}: {exc}"[:300])
            finally:
                ends.append(time.monotonic())

    await asyncio.gather(*(one(i) for i in range(args.count)))
    seconds = max(ends) - min(starts) if starts else 0.0
    ok = args.count - len(errors)
    return {
        "mode": args.mode, "count": args.count, "ok": ok, "errors": errors[:5],
        "error_count": len(errors), "seconds": seconds,
        "per_sec": ok / seconds if seconds > 0 else 0.0,
        "cpu_s": time.process_time() - cpu, "last_id": ids[-1] if ids else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--mode", choices=("library", "launch"), default="library")
    parser.add_argument("--timeout", type=float, default=120.0, help="per-run result timeout")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_drive(args))))
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the temporalio runtime can abort at interpreter exit
