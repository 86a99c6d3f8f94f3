"""One run id, several Temporal executions: each reports, and a closed run is never attached to.

Issue 8 items 1 and 2 through the real CLI (dev server, fake Anthropic API): ``retry`` and
``--if-exists replace`` start new executions of one id; each one's outcome reaches the
inbox with its own reason, says which attempt it is, and is what ``inbox`` and the hook
show first. Launching the id of a closed run fails with the commands to show it or to
start it afresh, whatever ``--if-exists`` short of ``replace`` says.
"""

from __future__ import annotations

import json
import shlex
import shutil
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure
from test_inbox_hardening import hook
from test_steer import launch_flaky, outcome, wait_for


def _inbox(sf: Sandbox, run_id: str, *flags: str) -> list[dict[str, Any]]:
    entries = json.loads(sf.run("inbox", "--json", *flags, check=True).stdout)
    return [e for e in entries if e["run_id"] == run_id]


def _endings(sf: Sandbox, run_id: str, count: int) -> list[dict[str, Any]]:
    """The run's DONE/FAILED entries, newest first, once there are ``count`` of them."""
    def found() -> list[dict[str, Any]]:
        done = [e for e in _inbox(sf, run_id, "--all") if e["status"] in ("DONE", "FAILED")]
        return done if len(done) >= count else []

    return wait_for(found, f"{count} endings of {run_id}", timeout=60)  # type: ignore[no-any-return]


def test_each_retry_reports_its_own_outcome_newest_first(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    fake_model.inject(401, message="invalid x-api-key")
    run_id = launch_flaky(sf, fake_model, latency=0)
    assert outcome(sf, run_id)[0] == "failed"
    [first] = _endings(sf, run_id, 1)
    assert "invalid x-api-key" in first["summary"] and first["note"] == ""

    fake_model.inject(400, message="prompt is too long")  # the second failure differs
    plan = json.loads(sf.run("retry", run_id, "--json", check=True).stdout)
    assert outcome(sf, run_id)[0] == "failed"
    second, again = _endings(sf, run_id, 2)
    assert again == first
    assert second["status"] == "FAILED" and "prompt is too long" in second["summary"]
    assert "invalid x-api-key" not in second["summary"]
    assert second["note"] == f"attempt 2 · Temporal run {plan['temporal_run']}"

    plan = json.loads(sf.run("retry", run_id, "--json", check=True).stdout)
    assert outcome(sf, run_id) == ("completed", "one + two + three")
    done, *older = _endings(sf, run_id, 3)
    assert (done["status"], done["summary"]) == ("DONE", "one + two + three")
    assert done["note"] == f"attempt 3 · Temporal run {plan['temporal_run']}"
    assert older == [second, first]
    # the hook shows the newest first too
    context = (hook(sf) or {})["hookSpecificOutput"]["additionalContext"]
    assert context.index("DONE · flaky-steps") < context.index("FAILED · flaky-steps")


def test_replace_reports_the_new_execution(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.run("launch", "hello-world", "--name", "ann", "--id", "greet-r", "--await", check=True)
    proc = sf.run("launch", "hello-world", "--name", "ben", "--id", "greet-r",
                  "--if-exists", "replace", "--await", check=True)
    assert proc.stdout.strip() == "hello, ben"
    newest, oldest = _endings(sf, "greet-r", 2)
    assert (newest["summary"], oldest["summary"]) == ("hello, ben", "hello, ann")
    assert newest["note"].startswith("attempt 2 · Temporal run ")
    assert "hello, ben" in sf.run("inbox", check=True).stdout.split("hello, ann")[0]


def test_relaunching_a_closed_run_says_so_and_never_attaches(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.run("launch", "hello-world", "--name", "ann", "--id", "greet-c", "--await", check=True)
    replace = "sagaflow launch hello-world --id greet-c --if-exists replace --arg name=zed"
    for policy in ((), ("--if-exists", "attach"), ("--if-exists", "fail")):
        proc = sf.run("launch", "hello-world", "--name", "zed", "--id", "greet-c", *policy,
                      "--await")
        line = one_line_failure(proc, 2, "Run greet-c is closed (completed)",
                                "'sagaflow show greet-c'", f"'{replace}'")
        assert "attached" not in line and proc.stdout == ""
    assert fake_model.calls("Greet zed") == 0
    assert "hello, ann" in sf.run("show", "greet-c", check=True).stdout

    # the same when only Temporal knows the id (its run directory is gone)
    shutil.rmtree(sf.home / "runs" / "greet-c")
    proc = sf.run("launch", "hello-world", "--name", "zed", "--id", "greet-c",
                  "--if-exists", "attach")
    one_line_failure(proc, 2, "Run greet-c is closed (completed)", f"'{replace}'")
    assert not (sf.home / "runs" / "greet-c").exists()  # a refused launch leaves nothing

    # the suggested command works as typed
    words = shlex.split(replace)
    done = sf.run(*words[1:], "--await", check=True)
    assert done.stdout.strip() == "hello, zed" and fake_model.calls("Greet zed") == 1


def test_relaunch_suggestion_repeats_the_launch_options(sf: Sandbox) -> None:
    """The suggested replace carries --transport (and pool/budget/timeout): without them it
    fails with no model key, or runs differently from what the user launched."""
    words = ("launch", "hello-world", "--name", "amy", "--id", "greet-s",
             "--transport", "scripted", "--timeout", "90s", "--budget-usd", "0.5")
    sf.run(*words, "--await", check=True, ANTHROPIC_API_KEY="")
    proc = sf.run(*words, ANTHROPIC_API_KEY="")
    line = one_line_failure(proc, 2, "Run greet-s is closed (completed)")
    suggested = line.split("start it afresh with '")[1].rsplit("'", 1)[0]
    assert "--transport scripted" in suggested and "--timeout 1m30s" in suggested
    assert "--budget-usd 0.5" in suggested
    done = sf.run(*shlex.split(suggested)[1:], "--await", check=True, ANTHROPIC_API_KEY="")
    assert done.stdout.strip() == "hello, amy"


def test_launching_an_open_run_still_attaches(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    # step one takes 3 s: the run is still open when the relaunch below (a fresh process,
    # slower on a busy machine) looks for it
    run_id = launch_flaky(sf, fake_model, latency=3.0)
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step one")
    fake_model.latency(0)
    proc = sf.run("launch", "flaky-steps", "--id", run_id, "--await", check=True)
    assert "attached to open run" in proc.stderr
    assert proc.stdout.strip() == "one + two + three"
    refused = sf.run("launch", "flaky-steps", "--id", run_id, "--if-exists", "fail")
    one_line_failure(refused, 2, f"Run {run_id} is closed (completed)")
