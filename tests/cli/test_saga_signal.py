"""wait_for_signal (buffered, with timeout) and Saga compensations, through the CLI."""

from __future__ import annotations

import json
import time

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox


def _launch(sf: Sandbox, *args: str) -> str:
    sf.install_skill("saga-signal")
    return sf.run("launch", "saga-signal", *args, check=True).stdout.strip()


def _wait_waiting(sf: Sandbox, run_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = json.loads(sf.run("list", "--waiting", "--json", check=True).stdout)
        row = next((r for r in rows if r["run_id"] == run_id), None)
        if row is not None:
            return dict(row)
        time.sleep(0.3)
    raise AssertionError("the run never showed as waiting")


def test_signal_resumes_the_run(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _launch(sf)
    row = _wait_waiting(sf, run_id)
    assert row["waiting"] == "signal:manager_approval"
    sf.run("signal", run_id, "manager_approval", '{"approved": true, "comments": "go"}', check=True)
    done = sf.run("launch", "saga-signal", "--id", run_id, "--await", check=True)
    assert "approved: go" in done.stdout
    assert not (sf.home / "runs" / run_id / "unbooked.txt").exists()


def test_failure_after_a_step_runs_its_compensation(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _launch(sf)
    _wait_waiting(sf, run_id)
    sf.run("signal", run_id, "manager_approval", '{"approved": false, "comments": "no"}', check=True)
    failed = sf.run("launch", "saga-signal", "--id", run_id, "--await")
    assert failed.returncode != 0 and "manager said no" in failed.stderr
    assert (sf.home / "runs" / run_id / "unbooked.txt").read_text() == "booking undone"


def test_signal_timeout_fails_cleanly_and_compensates(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _launch(sf, "--wait", "1")
    failed = sf.run("launch", "saga-signal", "--id", run_id, "--await")
    assert failed.returncode != 0 and "no 'manager_approval' signal within 1s" in failed.stderr
    assert (sf.home / "runs" / run_id / "unbooked.txt").exists()
