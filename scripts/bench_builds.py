"""Benchmark builds: a launch that needs a new build's worker, idle build workers, hashing.

Starts its own Temporal dev server and fake Anthropic API (scripts/bench_env.py) and
stops everything it started. Prints one JSON object; progress goes to stderr.

    python scripts/bench_builds.py [--builds N] [--idle SECONDS]

Measures:
- ``new_build_s``: ``launch hello-world --await`` right after an edit of the skill (a new
  build: snapshot, a new worker process, version registration, then the run), N times;
- ``warm_s``: the same launch again (its build's worker warm), N times;
- ``rss_mib`` / ``uss_mib``: memory of the N idle build workers those launches left;
- ``idle_exit_s``: with ``SAGAFLOW_WORKER_IDLE_SECONDS=IDLE``, from the moment another
  build became current until the old build's worker exited;
- ``identify_ms``: hashing the active skills to name the build, cold and with the stat cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import psutil
from bench_env import SAGAFLOW, Env, Sandbox, log, timed

REPO = Path(__file__).resolve().parent.parent


def _user_skill(box: Sandbox) -> Path:
    target = Path(box.env["HOME"]) / ".claude" / "skills" / "hello-world"
    if not target.exists():
        shutil.copytree(REPO / "skills" / "hello-world", target)
    return target


def _edit(skill: Path, i: int) -> None:
    with open(skill / "workflow.py", "a", encoding="utf-8") as fh:
        fh.write(f"# edit {i}\n")


def _launch(box: Sandbox, name: str) -> float:
    result = timed([*SAGAFLOW, "launch", "hello-world", "--name", name, "--await"],
                   box.env, box.work)
    if result.code != 0:
        raise RuntimeError(f"launch failed: {result.err.strip()[-300:]}")
    return result.seconds


def new_builds(box: Sandbox, n: int) -> dict[str, object]:
    skill = _user_skill(box)
    _launch(box, "warm-up")
    new, warm = [], []
    for i in range(n):
        _edit(skill, i)
        new.append(_launch(box, f"new{i}"))
        warm.append(_launch(box, f"warm{i}"))
        log(f"build {i + 1}/{n}: new {new[-1]:.2f}s, warm {warm[-1]:.2f}s")
    pids = box.worker_pids()
    procs = [psutil.Process(pid) for pid in pids]
    rss = [p.memory_info().rss / 2**20 for p in procs]
    uss = [p.memory_full_info().uss / 2**20 for p in procs]
    return {
        "new_build_s": {"median": statistics.median(new), "all": new},
        "warm_s": {"median": statistics.median(warm), "all": warm},
        "workers": len(pids),
        "rss_mib": {"each_median": statistics.median(rss), "total": sum(rss)},
        "uss_mib": {"each_median": statistics.median(uss), "total": sum(uss)},
    }


def idle_exit(env: Env, idle: float) -> dict[str, float]:
    """Seconds from build a's last run ending (and from build b becoming current, which
    happens during b's launch) until a's worker exited by itself."""
    import subprocess

    box = env.sandbox("idle")
    box.env["SAGAFLOW_WORKER_IDLE_SECONDS"] = str(idle)
    skill = _user_skill(box)
    _launch(box, "a")
    a_done = time.monotonic()
    old = box.worker_pid()
    _edit(skill, 0)
    b = subprocess.Popen([*SAGAFLOW, "launch", "hello-world", "--name", "b", "--await"],
                         env=box.env, cwd=box.work, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    b_done: float | None = None
    while old is not None and psutil.pid_exists(old) and \
            psutil.Process(old).status() != psutil.STATUS_ZOMBIE:
        if b_done is None and b.poll() is not None:
            b_done = time.monotonic()
        if time.monotonic() - a_done > idle + 300:
            raise RuntimeError("the idle worker did not exit")
        time.sleep(0.2)
    exited = time.monotonic()
    b.wait(120)
    b_done = b_done or exited
    return {"after_last_run": exited - a_done, "after_other_build_launched": exited - b_done}


def identify(box: Sandbox) -> dict[str, float]:
    os.environ["HOME"] = box.env["HOME"]
    from sagaflow.paths import Home
    from sagaflow.skills import builds
    from sagaflow.skills.discovery import discover

    home = Home(Path(box.env["SAGAFLOW_HOME"]) / "identify")
    sources, _ = discover(box.work)
    times = {}
    for label in ("cold", "warm"):
        start = time.perf_counter()
        builds.identify(home, sources)
        times[label] = (time.perf_counter() - start) * 1000
    files = sum(1 for s in sources for p in s.dir.rglob("*") if p.is_file())
    return {**times, "files": files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0)
    opts = parser.parse_args()
    env = Env()
    try:
        env.start_server()
        env.start_fake()
        box = env.sandbox("builds")
        report: dict[str, object] = {"builds": new_builds(box, opts.builds)}
        report["identify_ms"] = identify(box)
        report["idle_exit_s"] = {"idle_seconds": opts.idle, **idle_exit(env, opts.idle)}
    finally:
        env.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
