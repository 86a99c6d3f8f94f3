"""The raw-temporalio floor that sagaflow is benchmarked against.

Three modes, all talking only to the given (loopback) Temporal address:

* ``worker``: a long-lived worker for :mod:`raw_workflow` on its own task queue;
  one ``AsyncAnthropic(max_retries=0)`` client per process (reads
  ``ANTHROPIC_BASE_URL`` / ``ANTHROPIC_API_KEY``). Prints ``ready`` when polling.
* ``run``: a fresh client process: connect, start one workflow, await it, print
  the result. Leaves with ``os._exit`` after flushing (``--plain-exit`` returns
  normally instead, to show the SDK's exit-time aborts).
* ``many``: ``--count`` runs with ``--concurrency`` in flight through one client;
  prints a JSON summary (first start to last completion).

Only ``temporalio.client`` is imported by ``run`` and ``many``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

WORKFLOW_NAME = "RawHelloWorkflow"  # == raw_workflow.WORKFLOW_NAME (not imported: keep run light)
SYSTEM_PROMPT = (
    "You are a greeter. Output a greeting using the format\n"
    "STRUCTURED_OUTPUT_START / GREETING| / STRUCTURED_OUTPUT_END.\n"
    "Do not include any other text."
)
MODEL = "claude-haiku-4-5"


def _input(base: str, name: str) -> tuple[str, dict[str, str]]:
    wid = f"raw-{uuid.uuid4().hex[:16]}"
    return wid, {"run_dir": f"{base}/runs/{wid}", "name": name, "inbox": f"{base}/INBOX.txt"}


async def _run_one(args: argparse.Namespace) -> str:
    from temporalio.client import Client

    client = await Client.connect(args.address)
    wid, inp = _input(args.dir, args.name)
    print(f"run {wid}", file=sys.stderr)  # like launch --await: lets bench_cost find the run
    result: str = await client.execute_workflow(
        WORKFLOW_NAME, inp, id=wid, task_queue=args.task_queue
    )
    return result


async def _run_many(args: argparse.Namespace) -> dict[str, Any]:
    from temporalio.client import Client

    client = await Client.connect(args.address)
    sem = asyncio.Semaphore(args.concurrency)
    starts: list[float] = []
    ends: list[float] = []
    errors: list[str] = []
    ids: list[str] = []
    cpu = time.process_time()

    async def one(i: int) -> None:
        async with sem:
            wid, inp = _input(args.dir, f"t{i}")
            ids.append(wid)
            try:
                starts.append(time.monotonic())
                handle = await client.start_workflow(
                    WORKFLOW_NAME, inp, id=wid, task_queue=args.task_queue
                )
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
        "count": args.count, "ok": ok, "errors": errors[:5], "error_count": len(errors),
        "seconds": seconds, "per_sec": ok / seconds if seconds > 0 else 0.0,
        "cpu_s": time.process_time() - cpu, "last_id": ids[-1] if ids else None,
    }


# --- worker -------------------------------------------------------------------------------


def _worker_main(args: argparse.Namespace) -> None:
    import signal
    from datetime import timedelta

    import anthropic
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.worker import Worker

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from raw_workflow import WORKFLOW_NAME as DEFINED
    from raw_workflow import RawHelloWorkflow

    assert DEFINED == WORKFLOW_NAME
    model_client = anthropic.AsyncAnthropic(max_retries=0)  # once per worker process

    @activity.defn(name="raw_write")
    async def raw_write(path: str, content: str) -> str:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return path

    @activity.defn(name="raw_model")
    async def raw_model(prompt_path: str) -> str:
        user = Path(prompt_path).read_text(encoding="utf-8")
        async with model_client.messages.stream(
            model=MODEL, max_tokens=64, system=SYSTEM_PROMPT,
            messages=[{"role": "user", "content": user}],
        ) as stream:
            message = await stream.get_final_message()
        text = "".join(getattr(block, "text", "") for block in message.content)
        for line in text.splitlines():
            if line.startswith("GREETING|"):
                return line.split("|", 1)[1].strip()
        return text

    @activity.defn(name="raw_append")
    async def raw_append(path: str, line: str) -> bool:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return True

    async def serve() -> None:
        client = await Client.connect(args.address)
        worker = Worker(
            client, task_queue=args.task_queue, workflows=[RawHelloWorkflow],
            activities=[raw_write, raw_model, raw_append],
            graceful_shutdown_timeout=timedelta(seconds=5),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(worker.run())
        print("ready", flush=True)
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if running not in done:
            await worker.shutdown()
        await running

    asyncio.run(serve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("worker", "run", "many"))
    parser.add_argument("--address", required=True, help="Temporal host:port")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--dir", required=True, help="directory for run files and the inbox")
    parser.add_argument("--name", default="bench")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=120.0, help="per-run result timeout")
    parser.add_argument("--plain-exit", action="store_true", help="exit normally (no os._exit)")
    args = parser.parse_args(argv)
    if args.mode == "worker":
        _worker_main(args)
        return 0
    if args.mode == "run":
        print(asyncio.run(_run_one(args)))
    else:
        print(json.dumps(asyncio.run(_run_many(args))))
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
    if "--plain-exit" in sys.argv:
        sys.exit(code)
    os._exit(code)
