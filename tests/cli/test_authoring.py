"""Authoring through the real CLI: ``new`` → ``test`` → ``launch --await`` in a fresh home,
for both kinds, and what ``new`` and ``test`` say about bad input."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure

#: what an offline test must not need: a server address, a model key
OFFLINE_UNSET = ("TEMPORAL_ADDRESS", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")


def offline(sf: Sandbox, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``sagaflow ARGS`` with no Temporal address and no model key in the environment."""
    env = {k: v for k, v in sf.env.items() if k not in OFFLINE_UNSET}
    return subprocess.run([sys.executable, "-m", "sagaflow", *args], env=env, cwd=cwd or sf.root,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def next_commands(stdout: str) -> list[list[str]]:
    """The commands ``new`` printed under ``next:``, as argv lists (without ``sagaflow``)."""
    lines = stdout.split("next:\n", 1)[1].splitlines()
    commands = [shlex.split(line.strip()) for line in lines if line.strip()]
    assert all("sagaflow" in c and all("=" in w for w in c[:c.index("sagaflow")])
               for c in commands), commands
    return [[w for w in c if w != "sagaflow"] for c in commands]


@pytest.mark.parametrize(("kind", "said"), [
    ("python", "tide pools, in short: a scripted summary."),
    ("skillmd", "Summary: the notes I found:"),
])
def test_new_then_test_then_launch_in_a_fresh_home(
    sf: Sandbox, fake_model: FakeAnthropic, kind: str, said: str
) -> None:
    made = sf.run("new", "tide-notes", "--kind", kind, check=True)
    path = sf.user_skills / "tide-notes"
    assert made.stdout.startswith(f"created {kind} skill tide-notes in {path}\n")
    test, launch = next_commands(made.stdout)
    assert test == ["test", "tide-notes"]
    tested = offline(sf, *test)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith("PASS  summarizes  ")
    assert "1 passed, 0 failed in " in tested.stdout
    assert not (sf.home / "server").exists(), "sagaflow test started a server"
    ran = sf.run(*launch, check=True)
    assert said in ran.stdout
    assert not fake_model.requests, "a scripted launch called the model"


def test_new_outside_the_search_path_prints_commands_that_work(sf: Sandbox) -> None:
    made = sf.run("new", "lab-notes", "--dir", "lab", check=True)
    test, launch = next_commands(made.stdout)
    assert test == ["test", str(sf.root / "lab" / "lab-notes")]
    assert launch[0].startswith("SAGAFLOW_SKILLS_PATH=")
    assert offline(sf, *test).returncode == 0
    env_name, _, value = launch[0].partition("=")
    ran = sf.run(*launch[1:], check=True, **{env_name: value})
    assert "tide pools, in short" in ran.stdout


def test_new_refuses_an_existing_directory_and_a_bad_name(sf: Sandbox) -> None:
    sf.run("new", "mine", check=True)
    before = sorted(p.name for p in (sf.user_skills / "mine").rglob("*"))
    line = one_line_failure(sf.run("new", "mine", "--kind", "skillmd"), 2, "already exists",
                            "--dir")
    assert str(sf.user_skills / "mine") in line
    assert sorted(p.name for p in (sf.user_skills / "mine").rglob("*")) == before
    one_line_failure(sf.run("new", "My Notes"), 2, "is not usable", "'my-notes'")
    one_line_failure(sf.run("new", "x", "--kind", "java"), 2, "Unknown skill kind 'java'")


def test_new_json(sf: Sandbox) -> None:
    data = json.loads(sf.run("new", "js-notes", "--json", check=True).stdout)
    assert data["path"] == str(sf.user_skills / "js-notes")
    assert data["kind"] == "python" and "tests/summarizes.yaml" in data["files"]
    assert data["next"][0] == "sagaflow test js-notes"


def test_test_of_a_skill_without_tests_says_how_to_add_one(sf: Sandbox) -> None:
    sf.install_skill("gated")
    line = one_line_failure(offline(sf, "test", "gated"), 2, "Skill gated has no tests",
                            f"{sf.user_skills / 'gated' / 'tests'}/smoke.yaml",
                            "expect: {status: DONE}", "'sagaflow test gated'")
    assert "gated" in line
    one_line_failure(offline(sf, "test", "no-such-skill"), 2, "Unknown skill 'no-such-skill'")


def test_a_failing_case_says_what_differed_and_exits_1(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    (skill / "tests").mkdir()
    (skill / "tests" / "approved.yaml").write_text(
        "answers:\n  - {approve: publish, by: ann}\nexpect:\n  status: DONE\n"
        "  inbox: {summary_contains: approved by ann}\n")
    (skill / "tests" / "wrong.yaml").write_text(
        "answers:\n  - {reject: publish, reason: costly}\nexpect:\n  status: DONE\n"
        "  error_contains: cheap\n")
    proc = offline(sf, "test", "gated")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("PASS  approved  ")
    assert lines[1].startswith("FAIL  wrong  ")
    assert "status: expected DONE, got FAILED (publish rejected by tester: costly)" in lines[1]
    assert 'error: expected it to contain "cheap"' in lines[1]
    assert lines[2].startswith("1 passed, 1 failed in ")
    only = offline(sf, "test", "gated", "--case", "approved", "-v")
    assert only.returncode == 0 and "      steps write_artifact, emit_finding" in only.stdout
    data = json.loads(offline(sf, "test", "gated", "--json").stdout)
    assert (data["passed"], data["failed"]) == (1, 1)
    wrong = data["cases"][1]
    assert wrong["case"] == "wrong" and not wrong["passed"]
    assert wrong["observed"]["status"] == "FAILED"
    assert wrong["observed"]["steps"] == ["write_artifact"]
    one_line_failure(offline(sf, "test", "gated", "--case", "nope"), 2,
                     "No case 'nope'", "its cases: approved, wrong")


def test_a_malformed_case_is_one_line_with_file_and_line(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    (skill / "tests").mkdir()
    (skill / "tests" / "typo.yaml").write_text("answers:\n  - {aprove: publish}\n")
    one_line_failure(offline(sf, "test", "gated"), 2,
                     f"{skill / 'tests' / 'typo.yaml'}:2: unknown key 'aprove' in an answer "
                     "(did you mean 'approve'?)")


def test_a_failed_step_prints_no_sdk_traceback_unless_verbose(sf: Sandbox) -> None:
    sf.run("new", "quiet-notes", check=True)
    (sf.user_skills / "quiet-notes" / "tests" / "nomatch.yaml").write_text(
        "args: {topic: kelp}\nreplies: [{match: zzz, reply: hi}]\nexpect: {status: DONE}\n")
    proc = offline(sf, "test", "quiet-notes", "--case", "nomatch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("FAIL  nomatch  ")
    assert "step spawn_subagent failed: No scripted reply" in proc.stdout
    assert proc.stderr == "", proc.stderr
    shown = offline(sf, "test", "quiet-notes", "--case", "nomatch", "-v")
    assert "Traceback" in shown.stderr and "Completing activity as failed" in shown.stderr
