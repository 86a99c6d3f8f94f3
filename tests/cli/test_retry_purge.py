"""Recovering runs through the CLI: retry without re-paying completed steps; purge old runs."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox
from temporalio.api.common.v1 import ActivityType, Payload, Payloads
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
    WorkflowExecutionCanceledEventAttributes,
    WorkflowExecutionCancelRequestedEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
)
from test_steer import launch_flaky, launch_gated, one_line_error, outcome, wait_for, wait_pending

from sagaflow.errors import UsageError
from sagaflow.runs.recover import plan_reset

STEP_REPLY = "STRUCTURED_OUTPUT_START\nRESULT|$n\nSTRUCTURED_OUTPUT_END"


def test_retry_failed_run_reuses_completed_model_calls(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    run_id = launch_flaky(sf, fake_model, latency=0.5)
    # step two is in flight (its reply is held back by the latency): fail the next call
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step two")
    fake_model.inject(401, message="invalid x-api-key")
    status, reason = outcome(sf, run_id)
    assert status == "failed" and "401" in reason
    assert fake_model.calls("Step three", include_faults=True) == 1
    fake_model.latency(0)

    proc = sf.run("retry", run_id, "--json", check=True)
    plan = json.loads(proc.stdout)
    assert plan["previous_status"] == "failed"
    assert plan["reused"] == [
        "write_artifact", "spawn_subagent(one)", "write_artifact", "spawn_subagent(two)",
        "write_artifact",
    ]
    assert plan["rerun"] == ["spawn_subagent(three)"]
    assert plan["temporal_run"] != plan["previous_temporal_run"]
    assert outcome(sf, run_id) == ("completed", "one + two + three")
    # completed model calls were replayed from history, not made (and paid for) again
    assert fake_model.calls("Step one") == 1
    assert fake_model.calls("Step two") == 1
    assert fake_model.calls("Step three") == 1
    assert fake_model.calls("Step three", include_faults=True) == 2
    shown = json.loads(sf.run("list", "--json", check=True).stdout)
    assert [(r["run_id"], r["status"]) for r in shown if r["status"] == "completed"] == [
        (run_id, "completed")
    ]
    again = sf.run("retry", run_id)
    one_line_error(again, 2, f"Run {run_id} completed; nothing to retry")


def test_retry_await_prints_result_and_plan(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    fake_model.inject(401, message="invalid x-api-key")  # the first model call fails
    run_id = launch_flaky(sf, fake_model, latency=0)
    assert outcome(sf, run_id)[0] == "failed"
    proc = sf.run("retry", run_id, "--await", check=True)
    assert proc.stdout.strip() == "one + two + three"
    assert "reused:  write_artifact\n" in proc.stderr
    assert "re-run:  spawn_subagent(one)\n" in proc.stderr
    assert fake_model.calls("Step one", include_faults=True) == 2


def test_retry_cancelled_run_waits_on_its_gate_again(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    sf.run("cancel", run_id, check=True)
    assert outcome(sf, run_id)[0] == "canceled"
    plan = json.loads(sf.run("retry", run_id, "--json", check=True).stdout)
    assert plan["reused"] == ["write_artifact"] and plan["rerun"] == []
    wait_pending(sf, run_id)  # the cancellation was not carried over
    sf.run("approve", run_id, "--by", "carol", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by carol")


def test_retry_refuses_running_and_unknown_runs(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = launch_flaky(sf, fake_model, latency=30)
    proc = sf.run("retry", run_id)
    one_line_error(proc, 2, f"Run {run_id} is still running")
    one_line_error(sf.run("retry", "no-such-run"), 1, "No run no-such-run")
    sf.run("terminate", run_id, "--reason", "test over", check=True)


# -- purge --------------------------------------------------------------------------------------


def _failed_and_completed(sf: Sandbox, fake_model: FakeAnthropic) -> tuple[str, str]:
    good = sf.run("launch", "hello-world", "--name", "ann", "--await", check=True)
    good_id = good.stderr.split("run ", 1)[1].split()[0]
    fake_model.inject(401, message="invalid x-api-key")
    bad = sf.run("launch", "hello-world", "--name", "ben", "--await")
    assert bad.returncode == 1
    bad_id = bad.stderr.split("run ", 1)[1].split()[0]
    return good_id, bad_id


def test_purge_asks_then_removes_old_runs_and_their_run_dirs(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    good_id, bad_id = _failed_and_completed(sf, fake_model)
    open_id = launch_gated(sf)
    wait_pending(sf, open_id)
    # without --yes on a pipe: the plan is shown, nothing is deleted
    refused = sf.run("purge", "--older-than", "0s")
    assert good_id in refused.stdout and bad_id in refused.stdout and open_id not in refused.stdout
    one_line_error(refused, 2, "Not deleting 2 runs without confirmation", "--yes")
    assert (sf.home / "runs" / good_id).is_dir() and (sf.home / "runs" / bad_id).is_dir()
    one_line_error(sf.run("purge", "--older-than", "soon", "--yes"), 2,
                   "--older-than 'soon' is not a duration")

    old = json.loads(sf.run("purge", "--older-than", "30d", "--yes", "--json", check=True).stdout)
    assert old["items"] == [] and old["deleted"] is None

    proc = sf.run("purge", "--older-than", "0s", "--failed", "--yes", "--json", check=True)
    report = json.loads(proc.stdout)
    assert [i["run_id"] for i in report["items"]] == [bad_id]
    assert report["deleted"]["runs"] == 1 and report["deleted"]["run_dirs"] == 1
    assert not (sf.home / "runs" / bad_id).exists()
    assert (sf.home / "runs" / good_id).is_dir() and (sf.home / "runs" / open_id).is_dir()
    assert json.loads(sf.run("list", "--status", "running", "--json", check=True).stdout)[0][
        "run_id"] == open_id  # the open run is never a candidate, whatever its age

    # Temporal deletes in the background (about 30 s after the run closed on the dev server)
    def gone() -> bool:
        return sf.run("show", bad_id).returncode != 0

    wait_for(gone, "the purged run to disappear from Temporal", timeout=90)
    one_line_error(sf.run("show", bad_id), 1, "No run")
    assert sf.run("show", good_id).returncode == 0
    sf.run("terminate", open_id, "--reason", "test over", check=True)


def _purge_on_terminal(sf: Sandbox, answer: str) -> subprocess.CompletedProcess[str]:
    """``purge --older-than 0s`` with a terminal as stdin, typing ``answer``."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sagaflow", "purge", "--older-than", "0s"],
            env=sf.env, cwd=sf.root, stdin=slave, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_purge_confirms_on_a_terminal(sf: Sandbox) -> None:
    good = sf.run("launch", "hello-world", "--name", "ann", "--await", check=True)
    run_id = good.stderr.split("run ", 1)[1].split()[0]
    declined = _purge_on_terminal(sf, "n")
    assert declined.returncode == 0 and run_id in declined.stdout
    assert "Delete 1 run from Temporal, with run dirs? [y/N]" in declined.stderr
    assert "nothing deleted" in declined.stderr
    assert (sf.home / "runs" / run_id).is_dir()
    accepted = _purge_on_terminal(sf, "y")
    assert accepted.returncode == 0, accepted.stderr
    assert "deleted 1 run from Temporal and 1 run dir;" in accepted.stdout
    assert not (sf.home / "runs" / run_id).exists()


# -- reset point, pure ------------------------------------------------------------------------------


def _scheduled(event_id: int, task: int, role: str = "") -> HistoryEvent:
    payloads = Payloads()
    if role:
        payloads.payloads.append(Payload(
            metadata={"encoding": b"json/plain"}, data=json.dumps({"role": role}).encode()
        ))
    return HistoryEvent(
        event_id=event_id,
        activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
            activity_type=ActivityType(name="spawn_subagent" if role else "write_artifact"),
            workflow_task_completed_event_id=task, input=payloads,
        ),
    )


def _task(event_id: int) -> HistoryEvent:
    return HistoryEvent(
        event_id=event_id,
        workflow_task_completed_event_attributes=WorkflowTaskCompletedEventAttributes(),
    )


def _completed(event_id: int, scheduled: int) -> HistoryEvent:
    return HistoryEvent(
        event_id=event_id,
        activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
            scheduled_event_id=scheduled
        ),
    )


def test_plan_reset_points_at_the_task_that_scheduled_the_failed_step() -> None:
    events = [
        _task(4), _scheduled(5, 4, "one"), _completed(7, 5),
        _task(10), _scheduled(11, 10, "two"), _scheduled(12, 10, "three"), _completed(14, 12),
        HistoryEvent(event_id=15, activity_task_failed_event_attributes=(
            ActivityTaskFailedEventAttributes(scheduled_event_id=11))),
        _task(18),
        HistoryEvent(event_id=19, workflow_execution_failed_event_attributes=(
            WorkflowExecutionFailedEventAttributes())),
    ]
    plan = plan_reset(events)
    assert plan.event_id == 10
    assert plan.reused == ["spawn_subagent(one)"]
    # three completed, but after the reset point: it runs again
    assert plan.rerun == ["spawn_subagent(two)", "spawn_subagent(three)"]


def test_plan_reset_before_a_cancel_request() -> None:
    events = [
        _task(4), _scheduled(5, 4), _completed(7, 5), _task(10),
        HistoryEvent(event_id=12, workflow_execution_cancel_requested_event_attributes=(
            WorkflowExecutionCancelRequestedEventAttributes())),
        _task(15), _scheduled(16, 15), _completed(18, 16), _task(21),
        HistoryEvent(event_id=22, workflow_execution_canceled_event_attributes=(
            WorkflowExecutionCanceledEventAttributes())),
    ]
    plan = plan_reset(events)
    assert (plan.event_id, plan.reused, plan.rerun) == (10, ["write_artifact"], [])
    with pytest.raises(UsageError, match="before its first step"):
        plan_reset([HistoryEvent(event_id=1, workflow_execution_failed_event_attributes=(
            WorkflowExecutionFailedEventAttributes()))])
