"""Worker pools: several workers on one task queue share runs; killing one loses none."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, kill_pid

RUNS = 50


def _served(sf: Sandbox, pool: str) -> bool:
    probe = sf.run("launch", "hello-world", "--name", "probe", "--pool", pool, "--await")
    return probe.returncode == 0


def test_two_workers_split_a_pool_and_survive_a_kill(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    workers = [sf.popen("worker", "run", "--pool", "p1", "--max-concurrent", "4") for _ in range(2)]
    deadline = time.monotonic() + 60
    while not _served(sf, "p1"):
        assert time.monotonic() < deadline, "pool workers never came up"
        time.sleep(0.5)
    fake_model.latency(0.3)

    def launch(i: int) -> str:
        proc = sf.run("launch", "hello-world", "--name", f"n{i}", "--pool", "p1", check=True)
        return proc.stdout.strip()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(launch, i) for i in range(RUNS)]
        # kill one worker (by pid, one we started) once a third of the runs are in
        while sum(f.done() for f in futures) < RUNS // 3:
            time.sleep(0.1)
        kill_pid(workers[0].pid, signal.SIGKILL)
        run_ids = [f.result() for f in futures]
    workers[0].wait(10)

    deadline = time.monotonic() + 180
    while True:
        listed = json.loads(sf.run(
            "list", "--pool", "p1", "--status", "completed", "--limit", "200", "--json", check=True
        ).stdout)
        done = {r["run_id"] for r in listed} & set(run_ids)
        if len(done) == RUNS:
            break
        assert time.monotonic() < deadline, f"only {len(done)} of {RUNS} runs completed"
        time.sleep(1)

    # every run answered exactly its own name, and both workers did model calls
    inbox = json.loads(sf.run("inbox", "--all", "--json", check=True).stdout)
    summaries = {e["run_id"]: e["summary"] for e in inbox if e["status"] == "DONE"}
    for i, run_id in enumerate(run_ids):
        assert f"hello, n{i}" in summaries[run_id]
    callers = set()
    for run_id in run_ids:
        for meta in (sf.home / "runs" / run_id / "steps").glob("*.json"):
            callers.add(json.loads(meta.read_text())["worker"].split(":")[1])
    assert {str(w.pid) for w in workers} <= callers
    assert workers[1].poll() is None
    workers[1].send_signal(signal.SIGTERM)
    try:
        workers[1].wait(30)
    except subprocess.TimeoutExpired:
        workers[1].kill()
