"""``sagaflow show``: a run's timeline, through the real CLI against real Temporal."""

from __future__ import annotations

import json
import time
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

RUN_KEYS = {
    "run_id", "workflow_run_id", "skill", "workflow_type", "task_queue", "build", "status",
    "state", "waiting_on", "paused", "args", "started", "closed", "duration_seconds", "cost_usd",
    "reported_cost_usd", "tokens", "result", "failure", "steps_done", "steps", "framework",
    "workflow_errors", "signals", "pending_gates", "decisions", "decisions_source", "agent",
    "blocked", "worker",
}
STEP_KEYS = {
    "id", "type", "role", "status", "scheduled", "started", "closed", "offset_seconds",
    "duration_seconds", "attempts", "error", "next_retry", "next_retry_in_seconds", "model",
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cost_usd", "stop_reason",
}


def _run_id(proc: Any) -> str:
    return str(proc.stderr.split("run ", 1)[1].split()[0])


def _show(sf: Sandbox, run_id: str) -> dict[str, Any]:
    data = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert isinstance(data, dict)
    return data


def test_show_completed_run_json_and_human(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _run_id(sf.run("launch", "hello-world", "--name", "alice", "--await", check=True))
    data = _show(sf, run_id)
    assert set(data) == RUN_KEYS
    assert (data["run_id"], data["skill"], data["status"]) == (run_id, "hello-world", "completed")
    assert data["args"] == {"name": "alice"} and data["result"] == "hello, alice"
    assert data["failure"] is None and data["waiting_on"] == "" and data["steps_done"] == 3
    steps = data["steps"]
    assert all(set(s) == STEP_KEYS for s in steps)
    assert [(s["id"], s["type"], s["status"], s["attempts"]) for s in steps] == [
        ("1", "write_artifact", "completed", 1),
        ("2", "spawn_subagent", "completed", 1),
        ("3", "emit_finding", "completed", 1),
    ]
    model_step = steps[1]
    assert model_step["role"] == "greeter" and model_step["model"] == "claude-haiku-4-5"
    request = fake_model.requests[-1]
    assert model_step["output_tokens"] > 0 and model_step["input_tokens"] > 0
    assert data["tokens"]["total"] == model_step["input_tokens"] + model_step["output_tokens"]
    assert model_step["cost_usd"] > 0 and data["cost_usd"] == model_step["cost_usd"]
    assert model_step["stop_reason"] == "end_turn" and steps[0]["stop_reason"] is None
    assert request["reply"] and "hello, alice" in request["reply"]
    assert all(s["duration_seconds"] >= 0 and s["closed"] for s in steps)
    human = sf.run("show", run_id, check=True).stdout
    assert f"run       {run_id}" in human and "status    completed" in human
    assert "spawn_subagent(greeter)" in human and "result    hello, alice" in human
    assert "3 done of 3" in human


def test_show_failed_run_names_the_error(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    fake_model.inject(401, count=3, message="invalid x-api-key")
    proc = sf.run("launch", "hello-world", "--name", "carol", "--await")
    assert proc.returncode == 1
    data = _show(sf, _run_id(proc))
    assert data["status"] == "failed" and data["result"] is None
    assert "invalid x-api-key" in data["failure"]
    failed = [s for s in data["steps"] if s["status"] == "failed"]
    assert [(s["type"], s["attempts"]) for s in failed] == [("spawn_subagent", 1)]
    assert "invalid x-api-key" in failed[0]["error"]
    assert failed[0]["input_tokens"] is None  # no ModelStepResult: the call never answered
    human = sf.run("show", _run_id(proc), check=True).stdout
    assert "failure   " in human and "error: " in human and "invalid x-api-key" in human


def test_show_pending_retry_with_next_attempt(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.install_skill("many-steps")
    fake_model.add_reply(r"Count", "STRUCTURED_OUTPUT_START\nRESULT|counted\nSTRUCTURED_OUTPUT_END")
    fake_model.inject(529, count=2, retry_after=60)  # the second attempt waits a minute
    run_id = sf.run(
        "launch", "many-steps", "--steps", "2", "--subagent", "yes", check=True
    ).stdout.strip()
    assert fake_model.wait_for_requests(1, timeout=60, include_faults=True)
    deadline = time.monotonic() + 30
    step: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = _show(sf, run_id)
        step = data["steps"][-1]
        if step["status"] == "pending_retry":
            break
        time.sleep(0.2)
    assert data["status"] == "running" and data["closed"] is None
    assert step["type"] == "spawn_subagent" and step["status"] == "pending_retry", step
    assert step["attempts"] == 2 and "Overloaded" in step["error"]
    assert step["next_retry"] and 0 < step["next_retry_in_seconds"] <= 60
    assert data["steps_done"] == 3  # two steps and the prompt file
    human = sf.run("show", run_id, check=True).stdout
    assert "pending_retry" in human and "next retry in " in human and "x2" in human


def test_show_what_a_gated_run_waits_on_and_who_decided(sf: Sandbox) -> None:
    sf.install_skill("gated")  # a test skill of the steering tests: waits for approval
    run_id = sf.run("launch", "gated", check=True).stdout.strip()
    deadline = time.monotonic() + 30
    data = _show(sf, run_id)
    while time.monotonic() < deadline and not data["pending_gates"]:
        time.sleep(0.2)
        data = _show(sf, run_id)
    assert data["status"] == "running" and data["waiting_on"] == "approval:publish"
    assert [(g["step"], g["kind"]) for g in data["pending_gates"]] == [("publish", "approval")]
    assert data["decisions_source"] == "query"
    human = sf.run("show", run_id, check=True).stdout
    assert "waiting   approval:publish" in human and "gate      publish (approval)" in human
    sf.run("approve", run_id, "--by", "alice", "--comment", "ok", check=True)
    tail = sf.run("tail", run_id, check=True).stdout
    assert "gate publish approved by alice" in tail and "run completed" in tail
    data = _show(sf, run_id)
    assert data["status"] == "completed" and data["waiting_on"] == ""
    assert data["decisions_source"] == "history"
    assert [(d["step"], d["approved"], d["by"]) for d in data["decisions"]] == [
        ("publish", True, "alice")
    ]
