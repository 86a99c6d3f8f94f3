"""The ``resume`` benchmark: SIGKILL the worker during a model call, relaunch, time it.

It uses a second fake Anthropic server in this process (``tests/fake_anthropic.py``'s
``FakeAnthropic``) so that only the *first* call of each trial is slow: a
``reply_fn`` holds that request open until the trial is over, while the retried
call after the kill is answered at once. So kill→result needs no correction for
the fake's latency. The trial's sagaflow home points ``ANTHROPIC_BASE_URL`` at it.
"""

from __future__ import annotations

import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench_cases import Row, row
from bench_env import REPO, SAGAFLOW, Env, Sandbox, kill_pid, log, timed

HOLD_SECONDS = 60.0  # how long the fake holds a trial's first call (released at the end)
GREETING = "STRUCTURED_OUTPUT_START\nGREETING|hello, $name\nSTRUCTURED_OUTPUT_END"


def _is_worker(pid: int) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"sagaflow" in cmd and b"worker" in cmd


def _trial(box: Sandbox, fake: Any, slow: set[str], k: int) -> dict[str, float] | str:
    name, run_id = f"r{k}", f"resume-{uuid.uuid4().hex[:8]}-{k}"
    pattern = f"^Greet {name}$"
    slow.add(name)
    started = timed([*SAGAFLOW, "launch", "hello-world", "--name", name, "--id", run_id],
                    box.env, box.work)
    if started.code != 0:
        return f"launch exited {started.code}: {started.err.strip()[-200:]}"
    if not fake.wait_for_requests(1, timeout=30, pattern=pattern):
        return "the model call never arrived"
    time.sleep(0.3)  # the call is in flight: the fake holds it open
    pid = box.worker_pid()
    if pid is None or not _is_worker(pid):
        return f"no live worker pid in {box.home}/worker/builds/*/state.json"
    killed_at = time.time()
    kill_pid(pid, signal.SIGKILL)
    proc = subprocess.Popen(
        [*SAGAFLOW, "launch", "hello-world", "--id", run_id, "--await"],
        env=box.env, cwd=box.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    respawned_at: float | None = None
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline:
        if respawned_at is None and box.worker_pid() not in (None, pid):
            respawned_at = time.time()
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()  # our relaunch process, bounded wait exceeded
    out, err = proc.communicate(timeout=30)
    done_at = time.time()
    if proc.returncode != 0 or out.strip().splitlines()[-1:] != [f"hello, {name}"]:
        return f"relaunch exit {proc.returncode}: {out.strip()[-80:]!r} {err.strip()[-200:]}"
    calls = [r for r in fake.requests if re.search(pattern, r["text"])]
    retry_at = calls[1]["time"] if len(calls) > 1 else float("nan")
    return {
        "kill_to_result": done_at - killed_at,
        "kill_to_respawn": (respawned_at or float("nan")) - killed_at,
        "kill_to_retry_call": retry_at - killed_at,
        "retry_call_to_result": done_at - retry_at,
        "calls": float(len(calls)),
    }


def resume(env: Env, trials: int) -> list[Row]:
    sys.path.insert(0, str(REPO / "tests"))
    from fake_anthropic import FakeAnthropic, last_user_text  # type: ignore[import-not-found,unused-ignore]

    release = threading.Event()
    slow: set[str] = set()
    held: set[str] = set()
    guard = threading.Lock()

    def hold_first(body: dict[str, Any]) -> str | None:
        match = re.fullmatch(r"Greet (\S+)", last_user_text(body).strip())
        if match and match.group(1) in slow:
            with guard:
                first = match.group(1) not in held
                held.add(match.group(1))
            if first:
                release.wait(HOLD_SECONDS)
        return None  # the reply rules answer

    fake = FakeAnthropic()
    fake.add_reply(r"Greet (?P<name>.+)", GREETING)
    fake.reply_fn = hold_first
    fake.start()
    results: list[dict[str, float]] = []
    problems: list[str] = []
    try:
        box = env.sandbox("resume", fake_url=fake.url)
        warm = timed([*SAGAFLOW, "launch", "hello-world", "--name", "warm", "--await"],
                     box.env, box.work)
        log(f"resume: warm-up {warm.seconds:.2f}s exit {warm.code} (fake at {fake.url})")
        for k in range(trials):
            outcome = _trial(box, fake, slow, k)
            if isinstance(outcome, str):
                problems.append(outcome)
                log(f"resume trial {k + 1}/{trials}: FAILED {outcome}")
            else:
                results.append(outcome)
                log(f"resume trial {k + 1}/{trials}: " + ", ".join(
                    f"{key} {value:.2f}" for key, value in outcome.items()))
    finally:
        release.set()
        fake.stop()
    if not results:
        return [row("resume", "kill→result", None, None, target="≤ 10 s",
                    note="; ".join(problems)[:300])]
    totals = [r["kill_to_result"] for r in results]
    med = statistics.median(totals)

    def median_of(key: str) -> float:
        return statistics.median(r[key] for r in results)

    note = (f"each: {', '.join(f'{t:.2f}' for t in totals)} s; medians: worker respawned "
            f"{median_of('kill_to_respawn'):.2f} s, retried call arrived "
            f"{median_of('kill_to_retry_call'):.2f} s, retried call→result "
            f"{median_of('retry_call_to_result'):.2f} s after kill; retry answered with no "
            "latency, so no correction needed"
            + (f"; {len(problems)} failed trials: {problems[0][:120]}" if problems else ""))
    return [row("resume", f"median kill→result ({len(results)} trials)", med, None,
                target="≤ 10 s", passed=med <= 10.0 and not problems, note=note)]
