"""wait_for_signal (buffered, with timeout) and Saga compensations, through the CLI."""

from __future__ import annotations

import json
import shlex
import time

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox
from test_steer import outcome


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
    # show names the command that sends the signal (it named none: the run just sat there)
    line = next(ln for ln in sf.run("show", run_id, check=True).stdout.splitlines()
                if ln.startswith("waiting   "))
    command = f"sagaflow signal {run_id} manager_approval '{{...}}'"
    assert command in line
    words = shlex.split(command.replace("{...}", '{"approved": true, "comments": "go"}'))
    sf.run(*words[1:], check=True)  # the suggestion runs as typed, given its payload
    # (not `launch --id --await`: the run may have closed by then, and a closed run is
    # never attached to)
    assert outcome(sf, run_id) == ("completed", "approved: go")
    assert not (sf.home / "runs" / run_id / "unbooked.txt").exists()


def test_failure_after_a_step_runs_its_compensation(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _launch(sf)
    _wait_waiting(sf, run_id)
    sf.run("signal", run_id, "manager_approval", '{"approved": false, "comments": "no"}', check=True)
    status, reason = outcome(sf, run_id)
    assert status == "failed" and "manager said no" in reason
    assert (sf.home / "runs" / run_id / "unbooked.txt").read_text() == "booking undone"


def test_signal_timeout_fails_cleanly_and_compensates(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = _launch(sf, "--wait", "3")  # long enough for the relaunch below to attach
    failed = sf.run("launch", "saga-signal", "--id", run_id, "--await")
    assert failed.returncode != 0 and "no 'manager_approval' signal within 3s" in failed.stderr
    assert (sf.home / "runs" / run_id / "unbooked.txt").exists()
    # the inbox says what show says, not "TimeoutError: ..." in Python's words
    failure = json.loads(sf.run("show", run_id, "--json", check=True).stdout)["failure"]
    [entry] = [e for e in json.loads(sf.run("inbox", "--json", check=True).stdout)
               if e["run_id"] == run_id]
    assert entry["summary"] == failure == "no 'manager_approval' signal within 3s"
