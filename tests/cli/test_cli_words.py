"""The command line tells the truth in words (issue 8, items 14, 15 and 16).

Human output has no Python values; skill options are refused when ambiguous; a
wrong namespace or run id gets one sentence before any RPC; a skill without a
model launches without a transport; completion, help words and ``skills SKILL``;
``launch --await`` names a gate's commands once.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from sandbox import Sandbox, free_port, one_line_failure
from suggested import problem

PYTHON_VALUES = re.compile(r"\b(True|False|None)\b|\{\}|\[\]|\{'")




def test_human_output_has_no_python_values(sf: Sandbox) -> None:
    sf.run("launch", "hello-world", "--name", "x", "--await", check=True)
    sf.run("schedule", "add", "words", "hello-world", "--cron", "0 9 * * *", "--name", "x",
           check=True)
    try:
        for argv in (["server", "status"], ["hook", "status"], ["worker", "status"],
                     ["schedule", "list"], ["schedule", "show", "words"], ["list"]):
            proc = sf.run(*argv)
            assert proc.stdout.strip(), argv
            assert not PYTHON_VALUES.search(proc.stdout), (argv, proc.stdout)
        listed = sf.run("schedule", "list", check=True).stdout
        assert re.search(r"words\s+hello-world\s+0 9 \* \* \*\s+no\b", listed), listed
        assert "skill     hello-world  --name x" in sf.run("schedule", "show", "words").stdout
    finally:
        sf.run("schedule", "rm", "words")


@pytest.mark.parametrize(("argv", "needles"), [
    (["--name"], ["--name has no value", "give it a value: --name VALUE"]),
    (["--name", "--arg", "x=1"], ["give it a value: --name VALUE"]),
    (["--name", "a", "--arg", "name=b"], ["given twice", "--name a", "--arg name=b"]),
    (["--name", "a", "--name=b"], ["given twice", "--name a", "--name b"]),
])
def test_ambiguous_skill_options_are_refused(sf: Sandbox, argv: list[str], needles: list[str]) -> None:
    one_line_failure(sf.run("launch", "hello-world", *argv), 2, *needles)
    assert not (sf.home / "runs").exists() or not list((sf.home / "runs").iterdir())


@pytest.mark.parametrize("argv", [["list"], ["show", "some-run"], ["launch", "hello-world"],
                                  ["schedule", "list"], ["cost"]])
def test_unknown_namespace_is_named(sf: Sandbox, argv: list[str]) -> None:
    line = one_line_failure(sf.run("--namespace", "nope", *argv), 1,
                     "Namespace 'nope' does not exist", "it has: default",
                     "temporal operator namespace create --namespace nope")
    assert "search attribute" not in line.lower()


@pytest.mark.parametrize(("argv", "needle"), [
    (["approve", ""], "is empty"), (["reject", " ", "--reason", "r"], "is empty"),
    (["cancel", "a b"], "contains a space"), (["show", "x\ty"], "contains a space"),
    (["retry", "x" * 1001], "at most 1000"), (["tail", ""], "is empty"),
    (["pause", ""], "is empty"), (["signal", "", "go"], "is empty"), (["logs", ""], "is empty"),
])
def test_bad_run_ids_are_refused_before_any_rpc(sf: Sandbox, argv: list[str], needle: str) -> None:
    dead = {"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", "SAGAFLOW_EMBEDDED": "0"}
    one_line_failure(sf.run(*argv, **dead), 2, "The run id", needle, "'sagaflow list'")


def test_a_skill_without_model_calls_launches_without_a_transport(sf: Sandbox) -> None:
    sf.install_skill("gated")
    no_model = {"ANTHROPIC_API_KEY": "", "PATH": "/usr/bin:/bin"}
    launched = json.loads(sf.run("launch", "gated", "--json", check=True, **no_model).stdout)
    assert launched["transport"] == "auto" and launched["started"]
    run_id = launched["run_id"]
    deadline = time.monotonic() + 30
    while "approval:publish" not in sf.run("show", run_id).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    sf.run("approve", run_id, check=True)
    one_line_failure(sf.run("launch", "hello-world", "--name", "x", **no_model), 1, "--transport scripted")


def test_completion_is_offered(sf: Sandbox) -> None:
    shown = sf.run("--show-completion", "bash", check=True).stdout
    assert "_SAGAFLOW_COMPLETE" in shown and "complete " in shown
    assert "--install-completion" in sf.run("--help", check=True).stdout
    words = sf.run(_SAGAFLOW_COMPLETE="complete_bash", COMP_WORDS="sagaflow sche", COMP_CWORD="1")
    assert words.stdout.split() == ["schedule"], words
    opts = sf.run(_SAGAFLOW_COMPLETE="complete_bash",
                  COMP_WORDS="sagaflow schedule add n s --tra", COMP_CWORD="5")
    assert "--transport" in opts.stdout.split(), opts


def test_help_names_values_with_words(sf: Sandbox) -> None:
    for argv, words in ((["launch"], ["SKILL", "--arg KEY=VALUE", "--timeout DURATION"]),
                        (["approve"], ["{RUN}", "--step STEP", "--extend-budget USD"]),
                        (["reject"], ["--reason REASON"]),
                        (["schedule", "add"], ["{NAME} {SKILL}", "--cron CRON", "--transport NAME"]),
                        (["list"], ["--since DURATION", "--limit N"])):
        text = sf.run(*argv, "--help", check=True).stdout
        for word in words:
            assert word in text, (argv, word, text)
        assert not re.search(r"<[a-z\[\]]+>|\bTEXT\b", text), text


def test_skills_shows_one_skill(sf: Sandbox) -> None:
    sf.install_skill("two-step")
    sf.install_skill("gated")
    sf.install_skill("broken-syntax")
    text = sf.run("skills", "two-step", check=True).stdout
    assert re.search(r"arguments\s+--topic VALUE \(required\)\s+\[learned", text), text
    assert re.search(r"origin\s+user", text) and str(sf.user_skills / "two-step") in text
    gated = json.loads(sf.run("skills", "gated", "--json", check=True).stdout)
    assert gated["description"].startswith("Writes a draft") and gated["uses_model"] is False
    assert gated["arguments"]["optional"] == ["--default", "--timeout"]
    broken = sf.run("skills", "broken-syntax")
    assert broken.returncode == 1 and "syntax error" in broken.stderr
    assert re.search(r"status\s+error", broken.stdout)
    one_line_failure(sf.run("skills", "helo-world"), 2, "did you mean hello-world")


def test_launch_await_names_the_gate_commands_once(sf: Sandbox) -> None:
    sf.install_skill("gated")
    proc = sf.popen("launch", "gated", "--await", "--id", "gate-notice-1")
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not any("waits for approval" in ln for ln in seen):
        assert time.monotonic() < deadline, seen
        seen.append(proc.stderr.readline())
    time.sleep(2.5)  # a few more progress lines and describes while parked
    sf.run("approve", "gate-notice-1", check=True)
    out, rest = proc.communicate(timeout=60)
    lines = seen + rest.splitlines()
    notices = [ln for ln in lines if "waits for approval" in ln]
    assert len(notices) == 1, lines
    for command in re.findall(r"(?:approve|reject): sagaflow ([^·\n]+)", notices[0]):
        assert problem(command.strip()) is None, command
    assert "--step publish" in notices[0] and proc.returncode == 0, (out, lines)
