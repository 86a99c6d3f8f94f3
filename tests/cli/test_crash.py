"""Crash and resume: kill the worker mid-call, stop the server mid-run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, free_port


def _slow_once(pattern: str, seconds: float) -> Any:
    """A reply_fn that holds the first request matching ``pattern``."""
    state = {"held": False}
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> str | None:
        text = json.dumps(body.get("messages", []))
        with lock:
            hold = pattern in text and not state["held"]
            if hold:
                state["held"] = True
        if hold:
            time.sleep(seconds)
        return None

    return reply


def _results(fake: FakeAnthropic) -> None:
    fake.add_reply("First step", "STRUCTURED_OUTPUT_START\nRESULT|one\nSTRUCTURED_OUTPUT_END")
    fake.add_reply("Second step", "STRUCTURED_OUTPUT_START\nRESULT|two\nSTRUCTURED_OUTPUT_END")


def test_worker_sigkill_mid_call_resumes_without_redoing_steps(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("two-step")
    _results(fake_model)
    fake_model.reply_fn = _slow_once("Second step", 30)
    run_id = "crash-test-1"
    sf.run("launch", "two-step", "--topic", "x", "--id", run_id, check=True)
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Second step")
    worker = sf.worker_pid()
    assert worker is not None
    os.kill(worker, signal.SIGKILL)  # the daemon this test's launch started
    killed_at = time.monotonic()
    proc = sf.run("launch", "two-step", "--id", run_id, "--await", check=True)
    resumed_in = time.monotonic() - killed_at
    print(f"resumed and finished {resumed_in:.1f}s after SIGKILL")
    assert proc.stdout.strip() == "one + two"
    assert "attached" in proc.stderr
    assert sf.worker_pid() != worker
    assert fake_model.calls("First step") == 1  # completed step not paid for again
    assert fake_model.calls("Second step") == 2  # the in-flight call, retried once
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed" and shown["steps_done"] == 5


def test_server_stop_and_start_mid_run(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    # This home gets its own embedded server on a fresh port, started by sagaflow.
    env = {"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}
    sf.env.update(env)
    fake_model.reply_fn = _slow_once("Greet", 3)
    run_id = "server-restart-1"
    sf.run("launch", "hello-world", "--name", "zoe", "--id", run_id, check=True)
    status = json.loads(sf.run("server", "status", "--json", check=True).stdout)
    assert status["managed"] and status["answering"]
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Greet")
    stopped = sf.run("server", "stop", check=True)
    assert "stopped" in stopped.stdout
    assert sf.run("server", "status").returncode == 1
    sf.run("server", "start", check=True)
    # the run may finish before any relaunch could attach (which a closed run refuses):
    # follow it instead, to its end
    assert sf.run("tail", run_id, timeout=180).returncode == 0
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed" and shown["result"] == "hello, zoe"
    listed = json.loads(sf.run("list", "--json", check=True).stdout)
    assert [r["run_id"] for r in listed] == [run_id]


def test_worker_stop_drains_the_in_flight_call(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    fake_model.latency(2)
    run_id = "drain-1"
    sf.run("launch", "hello-world", "--name", "max", "--id", run_id, check=True)
    assert fake_model.wait_for_requests(1, timeout=60)
    stopped = sf.run("worker", "stop", check=True)  # SIGTERM to this home's worker only
    assert "stopped worker" in stopped.stdout
    assert sf.run("worker", "status").returncode == 1
    fake_model.latency(0)
    assert sf.run("worker", "start", check=True).returncode == 0  # serves the open run's build
    assert sf.run("tail", run_id, timeout=180).returncode == 0
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed" and shown["result"] == "hello, max"
    assert fake_model.calls() == 1  # the drained call finished; nothing was redone
