"""The failed-run queue (``list --failed`` = ``purge --failed``) and retries that tell the truth.

Issue 8 items 5 and 6: one run once, its latest execution decides, a retried or
dismissed run leaves the queue; a run that hit ``--timeout`` can be retried and
gets a fresh deadline; a retry that cannot replay says so in one sentence, and
``list`` then shows what Temporal says.
"""

from __future__ import annotations

import json
import time

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure
from test_steer import STEP_REPLY, outcome

TWO_STEP_REPLY = "STRUCTURED_OUTPUT_START\nRESULT|ok\nSTRUCTURED_OUTPUT_END"


def _failed_flaky(sf: Sandbox, fake_model: FakeAnthropic, run_id: str) -> None:
    """Launch flaky-steps as ``run_id`` with its first model call refused (401): it fails."""
    fake_model.inject(401, message="invalid x-api-key")
    sf.run("launch", "flaky-steps", "--id", run_id, check=True)
    assert outcome(sf, run_id)[0] == "failed"


def _queue(sf: Sandbox) -> list[str]:
    rows = json.loads(sf.run("list", "--failed", "--json", check=True).stdout)
    return [r["run_id"] for r in rows]


def _purge_queue(sf: Sandbox) -> list[str]:
    """What ``purge --failed`` would delete (no --yes on a pipe: the plan, nothing deleted)."""
    proc = sf.run("purge", "--older-than", "0s", "--failed", "--json")
    assert proc.returncode == 2, proc.stderr
    return [i["run_id"] for i in json.loads(proc.stdout)["items"]]


def test_list_failed_and_purge_failed_are_one_queue(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("flaky-steps")
    fake_model.add_reply(r"Step (?P<n>\w+)", STEP_REPLY)
    for run_id in ("fixed", "twice", "seen", "open-case"):
        _failed_flaky(sf, fake_model, run_id)
    # retried successfully: its latest execution completed, so it leaves the queue
    assert sf.run("retry", "fixed", "--await", check=True).stdout.strip() == "one + two + three"
    # failed twice: two failed executions, one entry in the queue
    fake_model.inject(401, message="invalid x-api-key")
    assert sf.run("retry", "twice", "--await").returncode == 1
    # dismissed: its FAILED inbox entry of that execution was read
    sf.run("dismiss", "seen", check=True)

    queue = _queue(sf)
    assert sorted(queue) == ["open-case", "twice"]
    assert _purge_queue(sf) and sorted(_purge_queue(sf)) == sorted(queue)
    # a plain status filter lists executions, the queue lists runs: twice has two failed ones
    failed_rows = json.loads(sf.run("list", "--status", "failed", "--json", check=True).stdout)
    assert [r["run_id"] for r in failed_rows].count("twice") >= 1

    # a failure after a dismissal is a new failure: it is back in the queue
    fake_model.inject(401, message="invalid x-api-key")
    assert sf.run("retry", "seen", "--await").returncode == 1
    assert sorted(_queue(sf)) == ["open-case", "seen", "twice"]
    assert sorted(_purge_queue(sf)) == ["open-case", "seen", "twice"]

    # purge --failed deletes exactly the queue, and the retried run stays
    deleted = sf.run("purge", "--older-than", "0s", "--failed", "--yes", "--json", check=True)
    assert sorted(i["run_id"] for i in json.loads(deleted.stdout)["items"]) == [
        "open-case", "seen", "twice"]
    assert sf.run("show", "fixed").returncode == 0


def test_retry_of_a_timed_out_run_restarts_its_deadline(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("two-step")
    fake_model.add_reply(r"step about", TWO_STEP_REPLY)
    fake_model.latency(30)
    sf.run("launch", "two-step", "--topic", "x", "--id", "slow-1", "--timeout", "3s", "--await")
    status, reason = outcome(sf, "slow-1")
    assert status == "failed" and "timed out after 3s" in reason
    assert _queue(sf) == ["slow-1"]

    # still too slow: the retried attempt gets a fresh 3 s, and times out again after it
    started = time.monotonic()
    again = sf.run("retry", "slow-1", "--await")
    one_line_failure(again, 1, "Run slow-1 failed", "timed out after 3s")
    assert time.monotonic() - started >= 3

    fake_model.latency(0)
    proc = sf.run("retry", "slow-1", "--await", "--json", check=True)
    plan = json.loads(proc.stdout)
    assert plan["previous_status"] == "failed" and plan["result"] == "ok + ok"
    assert plan["rerun"]  # what the deadline interrupted (which step depends on the load)
    assert _queue(sf) == []
    rows = json.loads(sf.run("list", "--json", check=True).stdout)
    assert [(r["run_id"], r["status"]) for r in rows] == [("slow-1", "completed")]


def test_retry_after_the_skill_changed_finishes_on_its_own_build(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    skill_dir = sf.install_skill("flaky-steps")
    fake_model.add_reply(r"Step (?P<n>\w+)", STEP_REPLY)
    _failed_flaky(sf, fake_model, "changed")
    source = skill_dir / "workflow.py"
    # a timer where the recorded history has the first write_artifact: replay cannot match
    source.write_text(source.read_text().replace(
        "        results = []\n",
        "        results = []\n        await workflow.sleep(0.01)\n",
    ))
    sf.run("worker", "start", check=True)  # the edited skill is served as a new build

    # the run is pinned to the build it started on: its retry replays and finishes on that
    # code, not the edit (forcing an edit onto a run is test_code_changes' case)
    fake_model.add_reply(r"Step (?P<n>\w+)", STEP_REPLY)
    proc = sf.run("retry", "changed")
    assert proc.returncode == 0, proc.stderr
    assert outcome(sf, "changed")[0] == "completed"
    row = next(r for r in json.loads(sf.run("list", "--json", check=True).stdout)
               if r["run_id"] == "changed")
    assert row["status"] == "completed" and not row["blocked"], row
