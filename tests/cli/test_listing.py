"""``sagaflow list``: query building (pure) and filters through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

from sagaflow._engine.meta import pool_of
from sagaflow.errors import UsageError
from sagaflow.runs.listing import (
    RunFilter,
    build_query,
    make_filter,
    parse_statuses,
    quote,
    rfc3339,
    state_label,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOT_PLUMBING = "WorkflowType != 'sagaflow_scheduled_run'"
SCOPE = f"(TaskQueue = 'sf' OR TaskQueue STARTS_WITH 'sf-pool-') AND {NOT_PLUMBING}"
ROW_KEYS = {
    "run_id", "skill", "status", "state", "waiting", "cost_usd", "pool", "task_queue",
    "build", "started", "closed", "blocked", "worker", "paused",
}


def test_scope_and_default_query() -> None:
    assert build_query("sf", RunFilter()) == SCOPE
    assert build_query("sf", RunFilter(pool="gpu")) == f"TaskQueue = 'sf-pool-gpu' AND {NOT_PLUMBING}"
    assert build_query("sf", RunFilter(pool="default")) == f"TaskQueue = 'sf' AND {NOT_PLUMBING}"
    assert pool_of("sf", "sf") == "default"
    assert pool_of("sf-pool-gpu", "sf") == "gpu"


def test_filters_combine_with_and() -> None:
    flt = RunFilter(statuses=("completed",), skill="hello-world", since_seconds=7200)
    assert build_query("sf", flt, NOW) == (
        f"{SCOPE} AND ExecutionStatus = 'Completed' AND SagaflowSkill = 'hello-world' "
        "AND StartTime >= '2026-03-01T10:00:00Z'"
    )
    assert build_query("sf", RunFilter(failed=True)) == (
        f"{SCOPE} AND ExecutionStatus IN ('Failed', 'TimedOut')"
    )
    assert build_query("sf", RunFilter(waiting=True)) == (
        f"{SCOPE} AND ExecutionStatus = 'Running' AND SagaflowState IN ('waiting', 'paused')"
    )


def test_user_values_are_escaped_or_refused() -> None:
    assert quote("it's") == "'it''s'"
    assert "SagaflowSkill = 'a'' OR ''1''=''1'" in build_query("sf", RunFilter(skill="a' OR '1'='1"))
    for bad in ("a\\", "", "x\ny"):
        with pytest.raises(UsageError):
            make_filter(skill=bad)
    with pytest.raises(UsageError, match="--pool"):
        make_filter(pool="gp\\u")


def test_statuses_and_durations() -> None:
    assert parse_statuses("Failed, timed_out,cancelled,failed") == ("failed", "timed_out", "canceled")
    with pytest.raises(UsageError, match="Unknown --status 'done'"):
        parse_statuses("done")
    assert make_filter(since="1h30m").since_seconds == 5400
    with pytest.raises(UsageError, match="--since '2 hours'"):
        make_filter(since="2 hours")
    with pytest.raises(UsageError, match="--limit"):
        make_filter(limit=0)
    local = datetime(2026, 3, 1, 13, 0, 0).astimezone()
    assert rfc3339(local) == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rfc3339(NOW) == "2026-03-01T12:00:00Z"


def test_state_label() -> None:
    assert state_label({"status": "running", "state": "waiting", "waiting": "approval:publish"}) == (
        "waiting: approval:publish"
    )
    assert state_label({"status": "running", "state": "paused", "waiting": None}) == "paused"
    assert state_label({"status": "running", "state": "paused", "waiting": "pause"}) == "paused"
    paused = {"by": "me", "reason": "lunch", "at": ""}
    assert state_label({"status": "running", "state": "waiting", "waiting": "budget",
                        "paused": paused}) == "waiting: budget (paused)"
    assert state_label({"status": "completed", "state": "running", "waiting": None}) is None


def _list(sf: Sandbox, *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(sf.run("list", *args, "--json", check=True).stdout)
    return rows


def test_list_filters_through_cli(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    done = []
    for name in ("ann", "ben"):
        proc = sf.run("launch", "hello-world", "--name", name, "--await", check=True)
        done.append(proc.stderr.split("run ", 1)[1].split()[0])
    fake_model.inject(401, count=5, message="invalid x-api-key")
    failed = sf.run("launch", "hello-world", "--name", "cy", "--await")
    assert failed.returncode == 1
    failed_id = failed.stderr.split("run ", 1)[1].split()[0]

    rows = _list(sf)
    assert {r["run_id"] for r in rows} == {*done, failed_id}
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["skill"] == "hello-world" and row["pool"] == "default"
        assert row["task_queue"] == sf.env["SAGAFLOW_TASK_QUEUE"]
        assert isinstance(row["started"], str) and isinstance(row["closed"], str)
        assert row["cost_usd"] is None or isinstance(row["cost_usd"], float)
    by_id = {r["run_id"]: r for r in rows}
    assert [by_id[i]["status"] for i in done] == ["completed", "completed"]
    assert by_id[failed_id]["status"] == "failed"

    assert [r["run_id"] for r in _list(sf, "--failed")] == [failed_id]
    assert {r["run_id"] for r in _list(sf, "--status", "completed")} == set(done)
    assert {r["run_id"] for r in _list(sf, "--since", "1h")} == {*done, failed_id}
    assert len(_list(sf, "--limit", "2")) == 2
    assert _list(sf, "--status", "running") == []
    assert _list(sf, "--pool", "gpu") == []
    assert {r["run_id"] for r in _list(sf, "--pool", "default")} == {*done, failed_id}

    human = sf.run("list", check=True).stdout.splitlines()
    assert human[0].split() == ["RUN_ID", "SKILL", "STATUS", "STATE", "COST", "STARTED", "CLOSED"]
    assert len(human) == 4 and all(line.split()[4].startswith(("$", "-")) for line in human[1:])


def test_list_by_search_attributes(sf: Sandbox) -> None:
    """Needs the search attributes (registered at connect, set at launch)."""
    run = sf.run("launch", "hello-world", "--name", "dee", "--await", check=True)
    run_id = run.stderr.split("run ", 1)[1].split()[0]
    assert [r["run_id"] for r in _list(sf, "--skill", "hello-world")] == [run_id]
    assert _list(sf, "--skill", "no-such-skill") == []
    assert _list(sf, "--waiting") == []
    row = _list(sf)[0]
    assert isinstance(row["cost_usd"], float) and row["cost_usd"] > 0
    assert row["state"] == "completed"


def test_list_bad_input(sf: Sandbox) -> None:
    for args, needle in (
        (("--status", "done"), "Unknown --status 'done'"),
        (("--since", "yesterday"), "--since 'yesterday' is not a duration"),
        (("--limit", "0"), "--limit must be 1 or more"),
    ):
        proc = sf.run("list", *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().startswith(f"sagaflow: {needle}")
        assert "Traceback" not in proc.stderr and proc.stdout == ""
