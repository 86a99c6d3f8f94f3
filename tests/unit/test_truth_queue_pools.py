"""Pure parts of issue 8 items 5-7: the reset point of a timed-out run, dismissals per
execution, retry refusals in one sentence, pool locks and the pool waiting note."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.history.v1 import (
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
    TimerFiredEventAttributes,
    TimerStartedEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowTaskCompletedEventAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from sagaflow._engine import poollocks
from sagaflow.paths import Home
from sagaflow.runs import pools, retryfaults
from sagaflow.runs.failedqueue import is_dismissed
from sagaflow.runs.recover import plan_reset


def _task(event_id: int) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, workflow_task_completed_event_attributes=(
        WorkflowTaskCompletedEventAttributes()))


def _timer(event_id: int, timer_id: str, seconds: int) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, timer_started_event_attributes=TimerStartedEventAttributes(
        timer_id=timer_id, start_to_fire_timeout=Duration(seconds=seconds)))


def test_a_timed_out_run_resets_before_its_deadline_fired() -> None:
    events = [
        _task(4), _timer(5, "1", 2), HistoryEvent(event_id=6, activity_task_scheduled_event_attributes=(
            ActivityTaskScheduledEventAttributes(workflow_task_completed_event_id=4))),
        HistoryEvent(event_id=8, timer_fired_event_attributes=TimerFiredEventAttributes(timer_id="1")),
        _task(11),  # the task that handled the deadline: cancels the step, runs compensations
        HistoryEvent(event_id=14, workflow_execution_failed_event_attributes=(
            WorkflowExecutionFailedEventAttributes())),
    ]
    # the step never completed: reset to the task that scheduled it, before the deadline fired
    assert plan_reset(events, deadline_seconds=2).event_id == 4
    only_tasks = [_task(4), _timer(5, "1", 2), _task(7), HistoryEvent(
        event_id=8, timer_fired_event_attributes=TimerFiredEventAttributes(timer_id="1")), _task(11)]
    assert plan_reset(only_tasks, deadline_seconds=2).event_id == 7
    # a timer of another length (the skill's own sleep) is not the deadline
    assert plan_reset(only_tasks, deadline_seconds=60).event_id == 11
    assert plan_reset(only_tasks).event_id == 11


def test_a_dismissal_belongs_to_one_execution() -> None:
    run = "019a2b3c-aaaa-7bbb-8ccc-0123456789ab"
    dismissed = {("job", run[-12:])}
    assert is_dismissed("job", run, dismissed)
    assert not is_dismissed("job", "019a2b3c-aaaa-7bbb-8ccc-ffffffffffff", dismissed)
    assert not is_dismissed("other", run, dismissed)
    assert not is_dismissed("job", run, {("job", "")})  # an entry without an attempt key


def test_reset_refusals_are_one_sentence_without_temporal_text() -> None:
    raw = "workflow execution reset point invalid: [TMPRL1100] internal detail"
    for status, needle in (
        (RPCStatusCode.NOT_FOUND, "no longer in Temporal"),
        (RPCStatusCode.INVALID_ARGUMENT, "cannot reset run job"),
        (RPCStatusCode.PERMISSION_DENIED, "permission"),
        (RPCStatusCode.UNAVAILABLE, "did not answer"),
        (RPCStatusCode.INTERNAL, "(internal)"),
    ):
        err = retryfaults.reset_refused("job", "two-step", RPCError(raw, status, b""))
        assert needle in err.message and "TMPRL" not in err.message and "\n" not in err.message
    assert retryfaults.is_nondeterminism("[TMPRL1100] Nondeterminism error: Timer machine ...")
    changed = retryfaults.code_changed("job", "two-step").message
    assert "code changed" in changed and "--if-exists replace" in changed


def test_a_suggested_fresh_launch_repeats_the_runs_own_launch() -> None:
    """'start afresh with sagaflow launch two-step --id job --if-exists replace' dropped
    the run's arguments (two-step requires --topic: refused) and its transport/limits."""
    import json as _json
    import shlex
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from suggested import problem

    from sagaflow._engine import meta

    memo = {meta.MEMO_SKILL: "two-step",
            meta.MEMO_ARGS: {"topic": "a b", "_extra": _json.dumps(["free", "words"])},
            meta.MEMO_OPTIONS: {"pool": "gpu", "budget_usd": 0.5, "timeout_seconds": 5400,
                                "config": {"transport": "scripted"}}}
    again = retryfaults.relaunch_words(memo)
    changed = retryfaults.code_changed("job", "two-step", again).message
    command = changed.split("start afresh with '")[1].rsplit("'", 1)[0]
    assert shlex.split(command)[1:] == [
        "launch", "two-step", "--id", "job", "--if-exists", "replace", "--transport", "scripted",
        "--pool", "gpu", "--budget-usd", "0.5", "--timeout", "1h30m", "--arg", "topic=a b",
        "free", "words"]
    assert problem(shlex.join(shlex.split(command)[1:])) is None  # it parses with the real CLI


def test_pool_locks_know_live_and_dead_workers(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.ensure(home.worker)
    assert poollocks.local_workers(home, "gpu") == poollocks.LocalWorkers((), None)
    # a worker process holding its lock, then killed: the kernel drops the lock at once
    code = ("import sys, time; from sagaflow.paths import Home; "
            "from sagaflow._engine.poollocks import PoolLock; "
            "from pathlib import Path; "
            "PoolLock(Home(Path(sys.argv[1])), 'gpu'); print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert poollocks.local_workers(home, "gpu").pids == (child.pid,)
        assert poollocks.local_workers(home, "gp").pids == ()  # another pool's name prefix
    finally:
        child.kill()
        child.wait()
    gone = poollocks.local_workers(home, "gpu")
    assert gone.pids == () and gone.last_seen is not None
    assert abs((datetime.now(UTC) - gone.last_seen).total_seconds()) < 60
    # a clean release stamps the last-served time and removes the lock file
    lock = poollocks.PoolLock(home, "cpu")
    time.sleep(0.01)
    lock.release()
    clean = poollocks.local_workers(home, "cpu")
    assert clean.pids == () and clean.last_seen is not None
    assert not list(poollocks.pools_dir(home).glob("cpu.*.lock"))
    assert (poollocks.pools_dir(home) / "cpu.last").stat().st_mode & 0o077 == 0


def test_pool_waiting_note() -> None:
    served = pools.PoolStatus("gpu", "q-pool-gpu", serving=True, local_pids=[1])
    assert served.waiting_note() is None
    idle = pools.PoolStatus("gpu", "q-pool-gpu", serving=False, last_seen="2026-11-29T12:00:00+00:00")
    assert idle.waiting_note() == (
        "waiting for a worker of pool gpu (none polling since 2026-11-29T12:00:00+00:00)")
    assert idle.start_command() == "sagaflow worker run --pool gpu"
    never = pools.PoolStatus("default", "q", serving=False)
    assert never.waiting_note() == "waiting for a worker of pool default (none has polled)"
    assert never.start_command() == "sagaflow worker start"
    now = datetime.now(UTC)
    remote_old = pools._judge("99@elsewhere", now - timedelta(seconds=200), set(), now)
    remote_new = pools._judge("99@elsewhere", now - timedelta(seconds=10), set(), now)
    assert not remote_old.alive and remote_new.alive and not remote_new.here
