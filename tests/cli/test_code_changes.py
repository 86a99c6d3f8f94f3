"""Code changes under runs in flight, through the real CLI and a real dev server.

* A forced incompatible edit (the skill edited in place and the parked run moved to
  the edited build with ``upgrade --force``; by itself it stays on its own build) leaves a
  parked run blocked, not failed: ``replay-check`` names the divergence, ``show``, ``list``,
  ``doctor`` and the inbox say why; reverting the edit and ``upgrade`` (back to the
  original build, which its history replays on) lets the run finish.
* A skill that fails the workflow sandbox at import and one in a directory named
  "My Review" sit next to a good skill: the good one launches and completes, the
  bad ones are reported with their reasons (``skills``, ``doctor``, launch, worker log).
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

from sandbox import Sandbox, one_line_failure
from test_steer import outcome, wait_for, wait_pending

from sagaflow.runs.reach import RPC_TIMEOUT

EARLY_TIMER = (
    '        await _write(f"{inp.run_dir}/draft.txt"',
    '        await workflow.sleep(1)\n        await _write(f"{inp.run_dir}/draft.txt"',
)


def _json(sf: Sandbox, *args: str) -> Any:
    return json.loads(sf.run(*args, "--json", check=True).stdout)


def test_an_incompatible_edit_blocks_a_run_until_reverted(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    run_id = sf.run("launch", "gated", check=True).stdout.strip()
    wait_pending(sf, run_id)
    first = _json(sf, "show", run_id)["build"]
    assert sf.run("replay-check", "gated", "--last", "0", check=True).stdout.strip() == (
        f"{run_id} (running): compatible")

    source = skill / "workflow.py"
    original = source.read_text()
    source.write_text(original.replace(*EARLY_TIMER, 1))
    check = sf.run("replay-check", "gated", "--last", "0")
    assert check.returncode == 1, check.stderr
    assert check.stdout.startswith(f"{run_id} (running): incompatible at event "), check.stdout
    assert ("history has ActivityTaskScheduled, the code now issues StartTimer"
            in check.stdout), check.stdout
    as_json = sf.run("replay-check", "gated", "--last", "0", "--json")
    [row] = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and row["compatible"] is False and row["found"] == "StartTimer"

    refused = sf.run("upgrade", run_id)  # checked first: the edit does not replay
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stdout.startswith(f"{run_id}: refused: its history does not replay on build ")
    assert "the code now issues StartTimer" in refused.stdout, refused.stdout
    forced = sf.run("upgrade", run_id, "--force")  # the edited code now serves the parked run
    assert forced.returncode == 0, forced.stderr
    assert forced.stderr.startswith("warning: --force moves runs without replaying"), forced.stderr
    forced_to = _json(sf, "show", run_id)["build"]
    assert forced.stdout.strip() == (
        f"{run_id}: moved without a replay check (--force) from build {first} to build {forced_to}")
    sf.run("signal", run_id, "nudge", check=True)  # any event: a workflow task to replay
    shown = wait_for(lambda: (d := _json(sf, "show", run_id))["blocked"] and d, "a blocked run")
    assert shown["status"] == "running"
    assert "code changed incompatibly" in shown["blocked"]
    assert "sagaflow replay-check gated" in shown["blocked"]
    assert f"sagaflow upgrade {run_id}" in shown["blocked"]
    human = sf.run("show", run_id, check=True).stdout
    assert "blocked   code changed incompatibly" in human
    [row] = [r for r in _json(sf, "list") if r["run_id"] == run_id]
    assert row["status"] == "running" and row["blocked"] is True
    assert "blocked: code changed incompatibly" in sf.run("list", check=True).stdout
    checks = json.loads(sf.run("doctor", "--json").stdout)
    [blocked_check] = [c for c in checks if c["name"] == "blocked runs"]
    assert blocked_check["level"] == "WARN" and run_id in blocked_check["detail"]
    assert "'sagaflow upgrade RUN'" in blocked_check["fix"]
    entry = wait_for(
        lambda: next((e for e in _json(sf, "inbox") if e["status"] == "BLOCKED"), None),
        "a BLOCKED inbox entry", timeout=30)
    assert entry["run_id"] == run_id and "code changed incompatibly" in entry["summary"]
    assert f"sagaflow upgrade {run_id}" in entry["summary"]
    asked = time.monotonic()
    refused = sf.run("approve", run_id)  # not "a worker that may predate this sagaflow"
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "cannot answer: code changed incompatibly" in refused.stderr, refused.stderr
    assert time.monotonic() - asked < RPC_TIMEOUT / 2  # said at once, not after the timeout

    source.write_text(original)  # revert: the same content is the build it started on
    back = sf.run("upgrade", run_id)  # its history replays there: checked, then moved
    assert back.returncode == 0, back.stderr
    assert back.stdout.strip() == f"{run_id}: moved from build {forced_to} to build {first}"
    wait_for(lambda: _json(sf, "show", run_id)["blocked"] is None, "the run unblocked")
    wait_pending(sf, run_id)
    sf.run("approve", run_id, "--by", "dana", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by dana")
    wait_for(lambda: not any(e["status"] == "BLOCKED" for e in _json(sf, "inbox")),
             "the BLOCKED entry retired", timeout=30)


CLOCK_SKILL_INIT = """\
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.clock_skill.workflow import ClockWorkflow


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(name="clock-skill", workflow_cls=ClockWorkflow,
                                build_input=lambda **kw: None, uses_model=False))
"""
CLOCK_SKILL_WORKFLOW = """\
import datetime

from temporalio import workflow

LOADED_AT = datetime.datetime.now()


@workflow.defn(name="ClockWorkflow")
class ClockWorkflow:
    @workflow.run
    async def run(self, _inp: object) -> str:
        return str(LOADED_AT)
"""


def test_bad_skills_are_reported_and_the_good_one_still_runs(sf: Sandbox) -> None:
    sf.install_skill("gated")
    clock = sf.user_skills / "clock-skill"
    clock.mkdir(parents=True)
    (clock / "__init__.py").write_text(CLOCK_SKILL_INIT)
    (clock / "workflow.py").write_text(CLOCK_SKILL_WORKFLOW)
    shutil.copytree(sf.user_skills / "gated", sf.user_skills / "My Review")
    started = time.monotonic()
    listed = {r["dir"].rsplit("/", 1)[-1]: r for r in _json(sf, "skills")}
    assert time.monotonic() - started < 60
    assert listed["gated"]["status"] == "ok"
    assert listed["clock-skill"]["status"] == "error"
    assert "fails Temporal's workflow sandbox" in listed["clock-skill"]["error"]
    assert "RestrictedWorkflowAccessError at workflow.py:5" in listed["clock-skill"]["error"]
    assert listed["My Review"]["status"] == "error"
    assert "not a valid module name" in listed["My Review"]["error"]
    assert "'my-review'" in listed["My Review"]["error"]

    checks = {c["name"]: c for c in json.loads(sf.run("doctor", "--json").stdout)}
    assert checks["skill clock-skill"]["level"] == "WARN"
    assert "workflow sandbox" in checks["skill clock-skill"]["detail"]
    assert checks["skill My Review"]["level"] == "WARN"

    one_line_failure(sf.run("launch", "clock-skill"), 1, "clock-skill", "workflow sandbox")
    # replay-check: bad input gets one line
    one_line_failure(sf.run("replay-check", "gatd"), 2, "Unknown skill 'gatd'", "Did you mean gated")
    one_line_failure(sf.run("replay-check", "clock-skill"), 1, "cannot be checked until it loads")
    run_id = sf.run("launch", "gated", check=True).stdout.strip()  # the worker starts
    wait_pending(sf, run_id)
    sf.run("approve", run_id, "--by", "erin", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by erin")
    none = sf.run("replay-check", "hello-world", check=True)  # (after the worker registered
    assert none.stdout == "" and none.stderr.strip() == (  # the search attributes)
        "sagaflow: skill hello-world has no open runs and no closed ones; nothing to check.")
    done = sf.run("replay-check", "gated", check=True)
    assert done.stdout.strip() == f"{run_id} (completed): compatible"
    log = (sf.home / "logs" / "worker.log").read_text()
    assert "clock-skill" in log and "workflow sandbox" in log and "My Review" in log
