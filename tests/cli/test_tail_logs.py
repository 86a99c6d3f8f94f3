"""``sagaflow tail`` and ``sagaflow logs``: through the real CLI, plus their pure parts."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

from sagaflow.paths import Home
from sagaflow.runs import logs as runlogs
from sagaflow.runs.follow import format_event

REPLY = "STRUCTURED_OUTPUT_START\nRESULT|counted\nSTRUCTURED_OUTPUT_END"


def _launch_many(sf: Sandbox, *args: str) -> str:
    if not (sf.user_skills / "many-steps").exists():
        sf.install_skill("many-steps")
    return sf.run("launch", "many-steps", *args, check=True).stdout.strip()


def test_tail_follows_a_running_run_to_the_end(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    fake_model.add_reply(r"Count", REPLY)
    fake_model.latency(1.5)
    run_id = _launch_many(sf, "--steps", "4", "--subagent", "yes", "--pause", "1")
    proc = sf.run("tail", run_id, check=True)
    lines = proc.stdout.splitlines()
    assert f"run {run_id} started: many-steps" in lines[0]
    for step in ("#1 write_artifact", "#4 write_artifact", "#6 spawn_subagent(counter)"):
        assert any(step in ln and "scheduled" in ln for ln in lines), step
        assert any(step in ln and "completed +" in ln for ln in lines), step
    assert any("waiting 1s (timer" in ln for ln in lines)
    model_line = next(ln for ln in lines if "spawn_subagent(counter) completed" in ln)
    assert "tokens" in model_line and "total" in model_line
    assert "run completed in" in lines[-1] and lines[-1].endswith("4 steps, counted")
    assert fake_model.calls("Count") == 1


def test_tail_json_lines_and_exit_codes(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.install_skill("many-steps")  # before the first launch: one worker serves both runs
    fake_model.inject(401, count=2, message="invalid x-api-key")
    failed = sf.run("launch", "hello-world", "--name", "fay", "--await")
    assert failed.returncode == 1
    failed_id = failed.stderr.split("run ", 1)[1].split()[0]
    run_id = _launch_many(sf, "--steps", "3")
    proc = sf.run("tail", run_id, "--json", check=True)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("step_scheduled") == 3 and kinds.count("step_completed") == 3
    assert all(e["run_id"] == run_id and e["time"] for e in events)
    assert events[-1]["status"] == "completed" and events[-1]["result"] == "3 steps"
    done = [e for e in events if e["event"] == "step_completed"]
    assert [e["id"] for e in done] == ["1", "2", "3"] and done[0]["type"] == "write_artifact"
    # a failed run: the whole story, then exit 1
    tail_failed = sf.run("tail", failed_id, "--json")
    assert tail_failed.returncode == 1
    last = json.loads(tail_failed.stdout.splitlines()[-1])
    assert last["status"] == "failed" and "invalid x-api-key" in last["failure"]
    human = sf.run("tail", failed_id)
    assert human.returncode == 1 and "spawn_subagent(greeter) failed (attempt 1)" in human.stdout


def test_tail_shows_retries_live_and_ctrl_c_detaches(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    fake_model.inject(529, count=2, retry_after=60)
    run_id = _launch_many(sf, "--steps", "1", "--subagent", "yes")
    tail = sf.popen("tail", run_id, "--json")
    assert tail.stdout is not None
    retry = None
    for line in tail.stdout:
        event = json.loads(line)
        if event["event"] == "step_retry":
            retry = event
            break
    assert retry is not None
    assert retry["type"] == "spawn_subagent" and retry["attempts"] == 2
    assert "Overloaded" in retry["error"] and retry["next_retry"]
    tail.send_signal(signal.SIGINT)  # the tail process this test started
    _, stderr = tail.communicate(timeout=30)
    assert tail.returncode == 130
    assert "detached" in stderr and "Traceback" not in stderr


def test_logs_prints_the_runs_worker_lines(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    proc = sf.run("launch", "hello-world", "--name", "gus", "--await", check=True)
    run_id = proc.stderr.split("run ", 1)[1].split()[0]
    other = sf.run("launch", "hello-world", "--name", "hal", "--await", check=True)
    other_id = other.stderr.split("run ", 1)[1].split()[0]
    human = sf.run("logs", run_id, check=True).stdout.splitlines()
    assert any("model call: role greeter" in ln and "[step 2 spawn_subagent #1]" in ln for ln in human)
    assert any("model reply: " in ln and "output tokens" in ln for ln in human)
    records = json.loads(sf.run("logs", run_id, "--json", check=True).stdout)
    assert records and all(run_id in r["text"] and other_id not in r["text"] for r in records)
    assert {r["file"] for r in records} == {"worker.log"}
    assert records == sorted(records, key=lambda r: r["time"])


def test_logs_of_a_known_run_without_lines(sf: Sandbox) -> None:
    run_id = sf.run("launch", "hello-world", "--name", "ida", "--await", check=True)
    run = run_id.stderr.split("run ", 1)[1].split()[0]
    for path in (sf.home / "logs").glob("*.log"):
        path.write_text("")
    proc = sf.run("logs", run)
    assert proc.returncode == 0 and proc.stdout == ""
    assert "no log lines" in proc.stderr


@pytest.mark.parametrize("command", ["show", "tail", "logs"])
def test_unknown_run_is_one_clear_line(sf: Sandbox, command: str) -> None:
    proc = sf.run(command, "no-such-run-42")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.strip().splitlines() == [
        "sagaflow: No run no-such-run-42 in Temporal; check the id with 'sagaflow list'."
    ]
    assert proc.stdout == ""


# --- pure parts ---------------------------------------------------------------------------


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_records_merge_files_keep_tracebacks_and_match_whole_ids(tmp_path: Path) -> None:
    home = Home(tmp_path)
    ctx = "({'activity_id': '3', 'activity_type': 'spawn_subagent', 'attempt': 2, 'workflow_id': 'run-1'})"
    _write(home.logs / "worker.log", [
        "2025-01-01 10:00:00,100 INFO sagaflow.worker: worker pid 1 polling q",
        f"2025-01-01 10:00:01,000 WARNING temporalio.activity: Completing activity as failed {ctx}",
        "Traceback (most recent call last):",
        "  ModelError: overloaded",
        "2025-01-01 10:00:03,000 INFO x: about run-10 only",
    ])
    _write(home.logs / "worker-gpu.log", [
        "2025-01-01 10:00:02,000 INFO temporalio.activity: model call: role a "
        "({'activity_id': '4', 'activity_type': 'spawn_subagent', 'attempt': 1, 'workflow_id': 'run-1'})",
    ])
    records = runlogs.records_for(home, "run-1")
    assert [(r["time"][-12:], r["file"]) for r in records] == [
        ("10:00:01,000", "worker.log"), ("10:00:02,000", "worker-gpu.log"),
    ]
    assert records[0]["text"].endswith("  ModelError: overloaded")
    assert records[0]["level"] == "WARNING" and records[0]["logger"] == "temporalio.activity"
    assert runlogs.compact(records[0]).splitlines()[0].endswith(
        "Completing activity as failed [step 3 spawn_subagent #2]"
    )
    assert len(runlogs.records_for(home, "run-10")) == 1
    assert runlogs.records_for(home, "run") == []


def test_format_event_lines() -> None:
    base = {"run_id": "r", "event_id": 5, "time": "2025-01-01T10:00:01.250+00:00"}
    step = {"id": "2", "type": "spawn_subagent", "role": "greeter", "attempts": 1, "error": None}
    completed = format_event(base | step | {
        "event": "step_completed", "status": "completed", "duration_seconds": 1.5,
        "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.001,
        "tokens": {"total": 40}, "cost_usd_total": 0.003,
    })
    assert completed == (
        "10:00:01.250 #2 spawn_subagent(greeter) completed +1.50s · 15 tokens $0.0010"
        " · total 40 tokens $0.0030"
    )
    retry = format_event(base | step | {
        "event": "step_retry", "attempts": 3, "error": "Overloaded",
        "next_retry": "2025-01-01T10:00:09.000+00:00",
    })
    assert retry == (
        "10:00:01.250 #2 spawn_subagent(greeter) attempt 2 failed: Overloaded; retrying at 10:00:09"
    )
    assert format_event(base | step | {"event": "step_started", "live": False}) is None
    finished = format_event(base | {
        "event": "run_finished", "status": "failed", "duration_seconds": 2.0, "result": None,
        "failure": "boom", "tokens": {"total": 0}, "cost_usd": None,
    })
    assert finished == "10:00:01.250 run failed in 2.00s: boom"
