"""``sagaflow upgrade`` through the real CLI, a real dev server and the fake model (issue 10 scope 4).

* An edit that adds a timer and a step before the gate: ``replay-check`` reports the
  parked run incompatible, ``upgrade`` refuses it (exit 1) and the run then finishes
  on its old code; the edited skill's own run is already on the current build.
* An edit after the wait point is compatible: ``upgrade --skill`` moves the run and it
  finishes on the new code, even after its old build's snapshot was deleted by hand.
* Bad input: unknown run or skill, a closed run, neither runs nor a skill, a current
  build whose snapshot lost a skill directory (written again from the sources).

The forced incompatible move (blocked, then reverted and upgraded back) is in
test_code_changes.py.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

from sandbox import Sandbox, one_line_failure
from test_pinned_builds import _build, _edit, _launch
from test_steer import outcome


def _json(sf: Sandbox, *args: str) -> Any:
    return json.loads(sf.run(*args, "--json", check=True).stdout)


def test_an_incompatible_edit_is_refused_and_the_run_finishes_on_its_old_code(
    sf: Sandbox,
) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "upg-old")
    _edit(skill, "NEW")  # a timer and a step before the gate: not replay-compatible
    _launch(sf, "upg-new")
    old_build, new_build = _build(sf, "upg-old"), _build(sf, "upg-new")

    check = sf.run("replay-check", "gated", "--last", "0")
    assert check.returncode == 1, check.stderr
    lines = dict(line.split(" ", 1) for line in check.stdout.splitlines())
    assert lines["upg-old"].startswith("(running): incompatible at event "), check.stdout
    assert lines["upg-new"] == "(running): compatible", check.stdout

    refused = sf.run("upgrade", "upg-old", "upg-new")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    old_line, new_line = refused.stdout.splitlines()
    assert old_line.startswith(f"upg-old: refused: its history does not replay on build {new_build}: "
                               "incompatible at event "), old_line
    assert "the code now issues StartTimer" in old_line
    assert "'sagaflow upgrade upg-old --force'" in old_line
    assert new_line == f"upg-new: already on build {new_build}"
    [row, _] = json.loads(sf.run("upgrade", "upg-old", "upg-new", "--json").stdout)
    assert row["action"] == "refused" and row["from_build"] == old_build
    assert row["to_build"] == new_build
    assert _build(sf, "upg-old") == old_build  # refused: still pinned where it started

    sf.run("approve", "upg-old", "--by", "ann", check=True)
    assert outcome(sf, "upg-old") == ("completed", "published: approved by ann")
    assert not (sf.home / "runs" / "upg-old" / "new-code.txt").exists()

    closed = sf.run("upgrade", "upg-old")  # closed runs cannot move
    assert closed.returncode == 1
    assert closed.stdout.strip() == "upg-old: refused: it is completed; closed runs cannot move"
    one_line_failure(sf.run("upgrade", "no-such-run", "upg-new"), 1, "no-such-run")
    assert _build(sf, "upg-new") == new_build
    one_line_failure(sf.run("upgrade", "--skill", "gatd"), 2, "Unknown skill 'gatd'",
                     "Did you mean gated")
    one_line_failure(sf.run("upgrade"), 2, "sagaflow upgrade RUN...", "--skill SKILL")
    one_line_failure(sf.run("upgrade", "upg-new", "--skill", "gated"), 2, "not both")
    none = sf.run("upgrade", "--skill", "hello-world", check=True)
    assert none.stdout == "" and none.stderr.strip() == (
        "sagaflow: skill hello-world has no open runs; nothing to upgrade.")
    sf.run("approve", "upg-new", "--by", "bo", check=True)
    assert outcome(sf, "upg-new") == ("completed", "NEW published: approved by bo")


def test_a_compatible_edit_is_upgraded_and_finishes_on_the_new_code(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "upg-1")
    _launch(sf, "upg-2")
    old_build = _build(sf, "upg-1")
    _edit(skill, "NEW", before_gate=False)  # only the code after the wait point changes
    checked = sf.run("replay-check", "gated", "--last", "0", check=True).stdout.splitlines()
    assert sorted(checked) == ["upg-1 (running): compatible", "upg-2 (running): compatible"]
    # the old build's snapshot deleted by hand: upgrading needs only the new one
    shutil.rmtree(sf.home / "builds" / old_build)

    moved = sf.run("upgrade", "--skill", "gated", check=True)
    new_build = _build(sf, "upg-1")
    assert new_build != old_build
    assert sorted(moved.stdout.splitlines()) == [
        f"upg-{i}: moved from build {old_build} to build {new_build}" for i in (1, 2)]
    assert _build(sf, "upg-2") == new_build
    assert _json(sf, "worker", "status")["current_build"] == new_build

    # a current build whose snapshot lost its skill directory is written again
    damaged = sf.home / "builds" / new_build / "skills" / "gated"
    shutil.rmtree(damaged)
    again = sf.run("upgrade", "upg-1", check=True)
    assert again.stdout.strip() == f"upg-1: already on build {new_build}"
    assert "NEW published" in (damaged / "workflow.py").read_text()

    for run_id in ("upg-1", "upg-2"):
        sf.run("approve", run_id, "--by", "cy", check=True)
        assert outcome(sf, run_id) == ("completed", "NEW published: approved by cy")
