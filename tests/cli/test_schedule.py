"""Scheduled runs: ``sagaflow schedule ...`` on real Temporal Schedules (Temporal checks the cron)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from sandbox import Sandbox, one_line_failure
from temporalio.client import ScheduleCalendarSpec, ScheduleRange

from sagaflow import inbox
from sagaflow.errors import UsageError
from sagaflow.runs import schedule_spec, schedules

FAR = "0 9 29 2 *"  # 09:00 on Feb 29: never fires during a test




@pytest.fixture
def name(sf: Sandbox) -> Iterator[str]:
    """A schedule name unique on the shared server, removed afterwards."""
    value = f"t-{uuid.uuid4().hex[:8]}"
    yield value
    sf.run("schedule", "rm", value)


# --- pure parts ---------------------------------------------------------------------------


def test_server_refusal_is_one_line_naming_the_expression() -> None:
    error = schedule_spec.refusal("61 9 * * *", "Invalid schedule spec: Minute is not in range [0-59]")
    assert error.message == (
        "Invalid --cron '61 9 * * *': Minute is not in range [0-59] (Temporal); "
        f"{schedule_spec.HINT}."
    )
    zone = schedule_spec.refusal("CRON_TZ=Mars/Base 0 9 * * *",
                                 "Invalid schedule spec: conflicting timezone names\nmore")
    assert "--tz" in zone.message and "conflicting timezone names" in zone.message
    assert "\n" not in zone.message and zone.retryable is False


def test_request_checks_name_overlap_pool_budget_zone() -> None:
    def bad(**changes: object) -> str:
        fields: dict[str, object] = {"name": "daily", "skill": "x", "cron": "0 9 * * *"}
        fields.update(changes)
        with pytest.raises(UsageError) as caught:
            schedules.check_request(schedules.ScheduleRequest(**fields))  # type: ignore[arg-type]
        return caught.value.message

    assert "not usable" in bad(name="-daily")
    assert "skip, buffer or allow" in bad(overlap="queue")
    assert "Pool name" in bad(pool="a b")
    assert "positive amount" in bad(budget_usd="-1")
    assert "not a duration" in bad(timeout="soon")
    assert "Unknown time zone" in bad(time_zone="Mars/Base")
    ok = schedules.check_request(schedules.ScheduleRequest(
        "daily", "x", "0  9 * * *", pool="default", budget_usd="2", timeout="1h"
    ))
    assert ok.cron == "0 9 * * *" and ok.time_zone  # local zone filled in
    assert (ok.options.pool, ok.options.budget_usd, ok.options.timeout_seconds) == (None, 2.0, 3600)
    assert schedules.schedule_id("daily") == "sagaflow-daily"


def test_calendar_is_described_as_cron() -> None:
    cal = ScheduleCalendarSpec(
        second=[ScheduleRange(0)], minute=[ScheduleRange(0, 59, 15)], hour=[ScheduleRange(9, 17)],
        day_of_week=[ScheduleRange(1, 5)],
    )
    assert schedule_spec.describe_calendar(cal) == "0 */15 9-17 * * 1-5 *"


# --- through the CLI, against real Temporal ----------------------------------------------


def _wait_for_inbox(sf: Sandbox, run_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not inbox.has_entry(sf.home / "INBOX.md", run_id):
        time.sleep(0.2)


def test_schedule_triggered_manually_lands_in_inbox(sf: Sandbox, name: str) -> None:
    added = json.loads(sf.run(
        "schedule", "add", name, "hello-world", "--cron", FAR, "--arg", "name=bob", "--json",
        check=True,
    ).stdout)
    assert added["name"] == name and added["schedule_id"] == f"sagaflow-{name}"
    assert added["skill"] == "hello-world" and added["args"] == {"name": "bob"}
    assert added["cron"] == FAR and added["overlap"] == "skip" and added["paused"] is False
    assert len(added["next_runs"]) == 3 and "-02-29T" in added["next_runs"][0]

    listed = json.loads(sf.run("schedule", "list", "--json", check=True).stdout)
    assert [r["name"] for r in listed] == [name]
    row = listed[0]
    assert {"name", "schedule_id", "skill", "args", "cron", "time_zone", "overlap", "pool",
            "paused", "note", "next_runs", "recent"} <= set(row)
    assert row["recent"] == [] and row["pool"] == "default"

    run_id = sf.run("schedule", "trigger", name, check=True).stdout.strip()
    assert run_id.startswith("hello-world-")
    _wait_for_inbox(sf, run_id)
    entries = json.loads(sf.run("inbox", "--json", check=True).stdout)
    assert [(e["run_id"], e["status"], e["skill"], e["summary"]) for e in entries] == [
        (run_id, "DONE", "hello-world", "hello, bob")
    ]
    assert json.loads((sf.home / "runs" / run_id / "run.json").read_text())["args"] == {
        "name": "bob"
    }

    shown = json.loads(sf.run("schedule", "show", name, "--json", check=True).stdout)
    assert shown["actions"] == 1 and shown["spec"]["calendars"] == ["0 0 9 29 2 * *"]
    assert [(r["run_id"], r["status"]) for r in shown["runs"]] == [(run_id, "completed")]
    assert shown["runs"][0]["workflow_id"].startswith(f"sagaflow-{name}-")
    human = sf.run("schedule", "show", name, check=True).stdout
    assert run_id in human and "hello-world" in human

    # the child is an ordinary run; the schedule's wrapper workflow is not one
    runs = json.loads(sf.run("list", "--json", check=True).stdout)
    assert [r["run_id"] for r in runs] == [run_id]
    assert json.loads(sf.run("show", run_id, "--json", check=True).stdout)["result"] == "hello, bob"


def test_pause_unpause_rm(sf: Sandbox, name: str) -> None:
    sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--overlap", "allow",
           "--budget-usd", "2", "--timeout", "2h", "--tz", "Europe/Berlin", check=True)

    def listed() -> dict[str, object]:
        rows = json.loads(sf.run("schedule", "list", "--json", check=True).stdout)
        assert [r["name"] for r in rows] == [name]
        return dict(rows[0])

    first = listed()
    assert first["paused"] is False and first["overlap"] == "allow"
    assert (first["budget_usd"], first["timeout_seconds"], first["time_zone"]) == (
        2.0, 7200, "Europe/Berlin"
    )
    # the human view says them too (only --json did)
    human = sf.run("schedule", "show", name, check=True).stdout
    assert "limits    budget $2.0000 per run · timeout 2h" in human
    paused = json.loads(sf.run(
        "schedule", "pause", name, "--note", "holiday", "--json", check=True
    ).stdout)
    assert paused["paused"] is True and paused["note"] == "holiday"
    assert listed()["paused"] is True
    one_line_failure(sf.run("schedule", "pause", name), 2, "already paused")
    sf.run("schedule", "unpause", name, check=True)
    assert listed()["paused"] is False
    one_line_failure(sf.run("schedule", "unpause", name), 2, "already running")

    assert sf.run("schedule", "rm", name, check=True).stdout.strip() == name
    one_line_failure(sf.run("schedule", "show", name), 1, f"No schedule {name!r}", "schedule list")
    one_line_failure(sf.run("schedule", "rm", name), 1, "No schedule")
    one_line_failure(sf.run("schedule", "trigger", name), 1, "No schedule")
    assert json.loads(sf.run("schedule", "list", "--json", check=True).stdout) == []


def test_bad_input_creates_nothing(sf: Sandbox, name: str) -> None:
    line = one_line_failure(
        sf.run("schedule", "add", name, "hello-world", "--cron", "61 9 * * *"), 2,
        "Invalid --cron '61 9 * * *'", "Minute is not in range [0-59]",
    )
    assert "0 9 * * *" in line
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", "0 9 * *"), 2, "5-7 fields")
    one_line_failure(sf.run("schedule", "add", name, "helo-world", "--cron", FAR), 2,
           "Unknown skill", "hello-world")
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--arg", "nmae=x"), 2,
           "--nmae", "--name")
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--overlap", "x"), 2,
           "skip, buffer or allow")
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--tz", "Mars/Base"), 2,
           "Unknown time zone")
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--pool", "nosuch"), 2,
           "Unknown pool 'nosuch'", "sagaflow worker run --pool nosuch")
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", FAR, "--budget-usd", "-1"),
           2, "--budget-usd")
    # the server checks the grammar: still one line, nothing created
    for expr, problem in [("@every 0s", "interval is too small"), ("*/0 * * * *", "invalid Step"),
                          ("0 9 1 1 * 1999", "Year is not in range"), ("@often", "5-7 fields"),
                          ("0 9 * * ?", "DayOfWeek")]:
        one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", expr), 2,
               f"Invalid --cron {expr!r}", problem)
    one_line_failure(sf.run("schedule", "show", name), 1, "No schedule")
    runs = sf.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []

    sf.run("schedule", "add", name, "hello-world", "--cron", FAR, check=True)
    one_line_failure(sf.run("schedule", "add", name, "hello-world", "--cron", "@daily"), 2,
           "already exists", f"sagaflow schedule rm {name}")
    shown = json.loads(sf.run("schedule", "show", name, "--json", check=True).stdout)
    assert shown["cron"] == FAR  # the first one is untouched


def test_firing_that_cannot_start_a_run_fails_into_the_inbox(sf: Sandbox, name: str) -> None:
    import shutil

    skill_dir = sf.install_skill("two-step")
    sf.run("schedule", "add", name, "two-step", "--cron", FAR, "--arg", "topic=tea", check=True)
    shutil.rmtree(skill_dir)  # the skill disappears after it was scheduled
    line = one_line_failure(sf.run("schedule", "trigger", name), 1, "no run started", "Unknown skill")
    parent = line.split("has it as ")[1].rstrip(".")
    assert parent.startswith(f"sagaflow-{name}-")
    entries = json.loads(sf.run("inbox", "--json", check=True).stdout)
    assert [(e["run_id"], e["status"], e["skill"]) for e in entries] == [
        (parent, "FAILED", "two-step")
    ]
    assert "could not start" in entries[0]["summary"]
    shown = json.loads(sf.run("schedule", "show", name, "--json", check=True).stdout)
    assert [(r["run_id"], r["status"]) for r in shown["runs"]] == [(None, "failed")]
    runs = sf.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
