"""The operate benchmarks (issue 3): ``list``, ``show`` and ``tail``.

* ``list``: fill a fresh sagaflow home's task queue with completed runs of the
  test skill ``many-steps`` (one step each, started through sagaflow's library on
  one client), then time ``sagaflow list --limit 1000 --json`` against a bare
  temporalio script running the same visibility query. Target: under 1 s.
* ``show``: one ``many-steps --steps N`` run, then ``sagaflow show RUN --json``
  against a bare script fetching that run's history. Target: under 1 s.
* ``tail``: the same ``many-steps`` run launched (no ``--await``) with and without
  ``sagaflow tail RUN`` attached right after the start, alternated; run duration
  is Temporal's close time minus start time. Target: tail adds at most 5 %.
  ``launch --await`` is measured the same way, with the same target (it follows
  the history once a run takes longer than a second).

The Temporal client work runs in fresh subprocesses of this file (``populate``,
``raw-list``, ``raw-history``, ``waiter``), which leave with ``os._exit``.
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
from collections.abc import Callable
from typing import Any

from bench_cases import Row, row
from bench_env import PY, REPO, SAGAFLOW, Env, Sandbox, log, read_line, timed

ME = str(REPO / "scripts" / "bench_operate.py")
SKILL = "many-steps"
TAIL_STEPS = 60  # about 3 s here: long enough that tail is attached for most of it


_BOXES: dict[tuple[int, str], Sandbox] = {}


def _box(env: Env, name: str) -> Sandbox:
    """The sandbox ``name`` of ``env`` (made once), with the test skills on its path."""
    if (id(env), name) not in _BOXES:
        box = env.sandbox(name)
        box.env["SAGAFLOW_SKILLS_PATH"] = str(REPO / "tests" / "skills")
        _BOXES[id(env), name] = box
    return _BOXES[id(env), name]


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


Check = Callable[[str], str | None]


def _alternate(box: Sandbox, cmds: dict[str, tuple[list[str], Check]],
               n: int) -> tuple[dict[str, list[float]], list[str]]:
    """Time each command ``n`` times in ``box``, alternating the order; checks stdout."""
    times: dict[str, list[float]] = {label: [] for label in cmds}
    problems: list[str] = []
    for i in range(n):
        for label in cmds if i % 2 == 0 else reversed(list(cmds)):
            cmd, check = cmds[label]
            result = timed(cmd, box.env, box.work, timeout=60)
            try:
                problem = check(result.out) if result.code == 0 else \
                    f"{label} exit {result.code}: {result.err.strip()[-160:]}"
            except ValueError as exc:  # unparsable JSON
                problem = f"{label} printed bad output: {exc}"
            if problem:
                problems.append(problem)
            else:
                times[label].append(result.seconds)
        log(" ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items() if v))
    return times, problems


def list_case(env: Env, count: int, tries: int = 5) -> list[Row]:
    """``sagaflow list --limit 1000 --json`` over ``count`` completed runs."""
    from sagaflow.runs.listing import RunFilter, build_query

    box = _box(env, "list")
    log(f"list: starting {count} runs of {SKILL} (1 step each) …")
    filled = timed([PY, ME, "populate", "--count", str(count)], box.env, box.work,
                   timeout=120 + count * 0.5)
    summary = _last_json(filled.out) or {"ok": 0, "errors": [filled.err.strip()[-300:]]}
    log(f"list: populate {json.dumps(summary)[:300]}")
    expect = min(1000, int(summary["ok"]))
    query = build_query(box.env["SAGAFLOW_TASK_QUEUE"], RunFilter(limit=1000))
    sf_cmd = [*SAGAFLOW, "list", "--limit", "1000", "--json"]
    raw_cmd = [PY, ME, "raw-list", "--address", env.address, "--query", query]
    timed(sf_cmd, box.env, box.work)  # warm the server's visibility store
    timed(raw_cmd, box.env, box.work)

    def sf_check(out: str) -> str | None:
        rows = len(json.loads(out or "[]"))
        return None if rows == expect else f"list returned {rows} rows, expected {expect}"

    def raw_check(out: str) -> str | None:
        return None if out.strip() == str(expect) else f"raw listed {out.strip()!r}"

    times, problems = _alternate(box, {"sagaflow": (sf_cmd, sf_check),
                                       "raw": (raw_cmd, raw_check)}, tries)
    sf, raw = _med(times["sagaflow"]), _med(times["raw"])
    quick = "" if count >= 1000 else f"QUICK: {count} runs, not 1,000; "
    note = (f"{quick}{expect} rows; median of {tries}, alternated, after one warm query; "
            f"sagaflow {_fmt(times['sagaflow'])}; raw = bare temporalio connect + same query "
            f"{_fmt(times['raw'])}; populate {summary.get('per_sec', 0):.1f} runs/s"
            + (f"; problems: {problems[0]}" if problems else ""))
    return [row("list", f"median list --limit 1000 --json ({expect} runs)", sf, raw,
                target="< 1 s", passed=None if sf is None else sf < 1.0 and not problems,
                note=note)]


def show_case(env: Env, steps: int, tries: int = 5) -> list[Row]:
    """``sagaflow show RUN --json`` of a ``steps``-step run."""
    box = _box(env, "observe")
    run_id = f"show-{steps}-{uuid.uuid4().hex[:6]}"
    made = timed([*SAGAFLOW, "launch", SKILL, "--steps", str(steps), "--id", run_id, "--await"],
                 box.env, box.work, timeout=60 + steps)
    log(f"show: {steps}-step run took {made.seconds:.1f}s, exit {made.code} "
        f"{made.out.strip()[-40:]!r}")
    if made.code != 0:
        return [row("show", "median show --json", None, None, target="< 1 s", passed=False,
                    note=f"launch failed: {made.err.strip()[-200:]}")]
    sf_cmd = [*SAGAFLOW, "show", run_id, "--json"]
    raw_cmd = [PY, ME, "raw-history", "--address", env.address, "--run-id", run_id]
    timed(sf_cmd, box.env, box.work)
    events = timed(raw_cmd, box.env, box.work).out.strip()

    def sf_check(out: str) -> str | None:
        done = [s for s in json.loads(out or "{}").get("steps", [])
                if s.get("type") == "write_artifact" and s.get("status") == "completed"]
        return None if len(done) == steps else f"show listed {len(done)} of {steps} steps"

    def raw_check(out: str) -> str | None:
        return None if out.strip().isdigit() else f"raw history printed {out.strip()[:60]!r}"

    times, problems = _alternate(box, {"sagaflow": (sf_cmd, sf_check),
                                       "raw": (raw_cmd, raw_check)}, tries)
    sf, raw = _med(times["sagaflow"]), _med(times["raw"])
    note = (f"{steps}-step run, {events} history events; median of {tries}, alternated; "
            f"sagaflow {_fmt(times['sagaflow'])}; raw = bare temporalio connect + fetch "
            f"history {_fmt(times['raw'])}" + (f"; problems: {problems[0]}" if problems else ""))
    return [row("show", f"median show --json ({steps}-step run)", sf, raw, target="< 1 s",
                passed=None if sf is None else sf < 1.0 and not problems, note=note)]


def _trial(env: Env, box: Sandbox, waiter: subprocess.Popen[str], mode: str,
           k: int) -> float | str:
    """One run in ``mode`` (plain | tail | await): its start→close seconds, or a problem."""
    run_id = f"tail-{mode}-{k}-{uuid.uuid4().hex[:6]}"
    launch = [*SAGAFLOW, "launch", SKILL, "--steps", str(TAIL_STEPS), "--id", run_id]
    started = timed([*launch, "--await"] if mode == "await" else launch, box.env, box.work)
    if started.code != 0:
        return f"{mode}: launch exit {started.code}: {started.err.strip()[-160:]}"
    follower = None
    if mode == "tail":
        with open(env.root / f"{run_id}.out", "w") as sink:
            follower = subprocess.Popen([*SAGAFLOW, "tail", run_id], env=box.env, cwd=box.work,
                                        stdin=subprocess.DEVNULL, stdout=sink,
                                        stderr=subprocess.STDOUT)
    assert waiter.stdin is not None
    try:
        waiter.stdin.write(run_id + "\n")
        waiter.stdin.flush()
        done = json.loads(read_line(waiter, 120))
        code = 0 if follower is None else follower.wait(60)
    except subprocess.TimeoutExpired:
        return f"tail of {run_id} still running 60 s after the run closed"
    finally:
        if follower is not None and follower.poll() is None:
            follower.kill()  # our own tail process, bounded wait exceeded
            follower.wait(10)
    if code != 0:
        return f"tail exit {code}: {(env.root / f'{run_id}.out').read_text()[-160:]}"
    if done["status"] != "COMPLETED":
        return f"{mode}: run {run_id} ended {done['status']}"
    return float(done["seconds"])


def tail_case(env: Env, n: int) -> list[Row]:
    """Run duration with and without ``sagaflow tail`` attached (and with ``launch --await``)."""
    box = _box(env, "observe")
    modes = ("plain", "tail", "await")
    with open(env.root / "waiter.log", "ab") as errors:
        waiter = subprocess.Popen(
            [PY, ME, "waiter", "--address", env.address], env=box.env, cwd=box.work,
            text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
        )
    env.procs.append(("waiter", waiter))
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    problems: list[str] = []
    for k in range(n + 1):  # round 0 warms the worker, the waiter and tail; not counted
        order = modes[:2] if k == 0 else modes if k % 2 else tuple(reversed(modes))
        for mode in order:
            outcome = _trial(env, box, waiter, mode, k)
            if isinstance(outcome, str):
                problems.append(outcome)
                log(f"tail round {k}: {outcome}")
            elif k > 0:
                seconds[mode].append(outcome)
        log(f"tail round {k}/{n}: " + ("warm-up" if k == 0 else " ".join(
            f"{m} {v[-1]:.2f}s" for m, v in seconds.items() if v)))
    plain = _med(seconds["plain"])
    rows = []
    for mode, label in (("tail", "tail attached"), ("await", "launch --await")):
        med = _med(seconds[mode])
        extra = med / plain - 1 if med is not None and plain else None
        paired = [b / a - 1 for a, b in zip(seconds["plain"], seconds[mode], strict=False)]
        gated = True  # launch --await follows the history once a run passes 1 s
        note = (f"{TAIL_STEPS}-step run, start→close from describe; median of {n} each, "
                f"alternated; plain {_fmt(seconds['plain'])}; {mode} {_fmt(seconds[mode])}; "
                + (f"added {extra:+.1%} (median of per-round ratios "
                   f"{statistics.median(paired):+.1%})" if extra is not None else "no data")
                + (f"; problems ({len(problems)}): {problems[0]}" if problems else ""))
        rows.append(row("tail", f"median run duration, {label} vs none", med, plain,
                        target="≤ +5 %" if gated else "",
                        passed=None if extra is None or not gated else
                        extra <= 0.05 and not problems, note=note))
    return rows


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def _last_json(out: str) -> dict[str, Any] | None:
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return data
    return None


# --- subprocess drivers -----------------------------------------------------------------


async def _populate(count: int, concurrency: int) -> dict[str, Any]:
    """Start ``count`` one-step runs through sagaflow's library and await them all."""
    from sagaflow._engine import daemon
    from sagaflow._engine.client import ensure_temporal
    from sagaflow.config import load_settings
    from sagaflow.paths import Home
    from sagaflow.runs import start as runs
    from sagaflow.skills.discovery import fingerprint, load_skills
    from sagaflow.skills.prepare import prepare

    home = Home.current()
    settings = load_settings(home)
    home.ensure(home.runs, home.logs)
    loaded = load_skills()
    client = await ensure_temporal(settings)
    daemon.ensure_worker(home, settings, fingerprint(loaded.sources))
    sem = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def one(i: int) -> None:
        async with sem:
            try:
                prepared = prepare(home, settings, loaded, SKILL, {"steps": "1", "topic": f"t{i}"})
                handle, _fresh = await runs.start(client, settings, prepared)
                await asyncio.wait_for(handle.result(), timeout=120)
            except Exception as exc:
                errors.append(f"run {i}: {type(exc).__name__}: {exc}"[:300])

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(count)))
    took = time.monotonic() - started
    return {"count": count, "ok": count - len(errors), "errors": errors[:3],
            "seconds": round(took, 2), "per_sec": (count - len(errors)) / took}


async def _raw_list(address: str, query: str) -> int:
    from temporalio.client import Client

    client = await Client.connect(address)
    return len([wf async for wf in client.list_workflows(query, limit=1000, page_size=1000)])


async def _raw_history(address: str, run_id: str) -> int:
    from temporalio.client import Client

    client = await Client.connect(address)
    return len((await client.get_workflow_handle(run_id).fetch_history()).events)


async def _waiter(address: str) -> None:
    """For each run id on stdin: wait for its close, print status and start→close seconds."""
    from temporalio.client import Client

    client = await Client.connect(address)
    loop = asyncio.get_running_loop()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        handle = client.get_workflow_handle(line)
        try:
            await handle.result()
        except Exception as exc:  # the status below says how it ended
            print(f"{line}: {type(exc).__name__}", file=sys.stderr)
        desc = await handle.describe()
        took = (desc.close_time - desc.start_time).total_seconds() \
            if desc.close_time and desc.start_time else -1.0
        status = desc.status.name if desc.status else "UNKNOWN"
        print(json.dumps({"run_id": line, "status": status, "seconds": took}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="drivers for the operate benchmarks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    pop = sub.add_parser("populate")
    pop.add_argument("--count", type=int, required=True)
    pop.add_argument("--concurrency", type=int, default=40)
    for name, extra in (("raw-list", "--query"), ("raw-history", "--run-id"), ("waiter", None)):
        cmd = sub.add_parser(name)
        cmd.add_argument("--address", required=True)
        if extra:
            cmd.add_argument(extra, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "populate":
        print(json.dumps(asyncio.run(_populate(args.count, args.concurrency))))
    elif args.cmd == "raw-list":
        print(asyncio.run(_raw_list(args.address, args.query)))
    elif args.cmd == "raw-history":
        print(asyncio.run(_raw_history(args.address, args.run_id)))
    else:
        asyncio.run(_waiter(args.address))
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
