"""Every command or option an error tells the user to type exists (issue 8, item 13).

Table-driven: each row provokes a real error through the real CLI (dev server, fake
model) and checks its advice: each quoted ``sagaflow ...`` command parses with the
CLI's own parser, each option named in prose is an option of the command that
failed (or a root option), and where a row has a follow-up, typing the advice works.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

import pytest
from sandbox import Sandbox, free_port
from suggested import bare_options, option_problem, problem, quoted_commands

NO_MODEL = {"ANTHROPIC_API_KEY": "", "PATH": "/usr/bin:/bin"}
CRON = "0 9 * * *"


@dataclass
class Row:
    """One provoked error: argv, extra env, the command words whose options apply,
    a needle the advice must contain, and an optional follow-up that must succeed."""

    argv: list[str]
    words: list[str]
    needle: str
    env: dict[str, str] = field(default_factory=dict)
    then: list[str] | None = None
    #: skill options the advice names (the follow-up proves the command takes them)
    skill_opts: tuple[str, ...] = ()


def _rows(run_id: str) -> dict[str, Row]:
    return {
        "schedule-add-no-model": Row(
            ["schedule", "add", "nightly", "hello-world", "--cron", CRON, "--name", "x"],
            ["schedule", "add"], "--transport", NO_MODEL,
            then=["schedule", "add", "nightly", "hello-world", "--cron", CRON, "--name", "x",
                  "--transport", "scripted"]),
        "launch-no-model": Row(
            ["launch", "hello-world", "--name", "x"], ["launch"], "--transport", NO_MODEL,
            then=["launch", "hello-world", "--name", "x", "--transport", "scripted"]),
        "schedule-add-missing-skill-arg": Row(
            ["schedule", "add", "topical", "two-step", "--cron", CRON], ["schedule", "add"],
            "--topic", then=["schedule", "add", "topical", "two-step", "--cron", CRON,
                             "--topic", "x"], skill_opts=("--topic",)),
        "schedule-add-twice": Row(
            ["schedule", "add", "nightly", "hello-world", "--cron", CRON, "--name", "x"],
            ["schedule", "add"], "'sagaflow schedule rm nightly'"),
        "schedule-pause-twice": Row(
            ["schedule", "unpause", "nightly"], ["schedule", "unpause"], "schedule pause"),
        "schedule-unknown": Row(["schedule", "show", "nope"], ["schedule", "show"],
                                "'sagaflow schedule list'"),
        "unknown-skill": Row(["launch", "helo-world"], ["launch"], "'sagaflow skills'"),
        "unknown-run": Row(["show", "no-such-run"], ["show"], "'sagaflow list'"),
        "unknown-pool": Row(["launch", "hello-world", "--pool", "nopool"], ["launch"],
                            "worker run --pool nopool"),
        "pause-twice": Row(["pause", run_id], ["pause"], f"'sagaflow unpause {run_id}'"),
        "approve-unknown-step": Row(["approve", run_id, "--step", "nope"], ["approve"], "nope"),
        "reject-empty-reason": Row(["reject", run_id, "--reason", " "], ["reject"], "--reason"),
        "signal-empty-name": Row(["signal", run_id, ""], ["signal"], "'sagaflow signal"),
        "id-taken": Row(["launch", "gated", "--id", run_id, "--if-exists", "fail"], ["launch"],
                        "--if-exists"),
        "purge-unconfirmed": Row(["purge", "--older-than", "0s"], ["purge"], "--yes"),
        "temporal-silent": Row(["list"], ["list"], "--address",
                               {"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
                                "SAGAFLOW_EMBEDDED": "0"}),
    }


def _advice(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stderr


@pytest.fixture
def gated_run(sf: Sandbox) -> str:
    sf.install_skill("gated")
    sf.install_skill("two-step")
    run_id = sf.run("launch", "gated", check=True).stdout.strip()
    deadline = time.monotonic() + 30
    while "waiting" not in sf.run("show", run_id).stdout and time.monotonic() < deadline:
        time.sleep(0.3)
    sf.run("pause", run_id, check=True)
    return run_id


def test_every_suggestion_exists(sf: Sandbox, gated_run: str) -> None:
    checked: list[str] = []
    for name, row in _rows(gated_run).items():
        proc = sf.run(*row.argv, **row.env)
        assert proc.returncode != 0, (name, proc.stdout, proc.stderr)
        text = _advice(proc)
        assert row.needle in text, (name, text)
        assert "Traceback" not in text, (name, text)
        for command in quoted_commands(text):
            assert problem(command) is None, (name, command, problem(command))
            checked.append(command)
        for option in bare_options(text):
            if option in row.skill_opts:
                continue
            assert option_problem(row.words, option) is None, (name, text)
            checked.append(option)
        if row.then is not None:
            done = sf.run(*row.then, **row.env)
            assert done.returncode == 0, (name, done.stdout, done.stderr)
        if name == "schedule-add-no-model":  # the same schedule, for the rows below
            sf.run("schedule", "pause", "nightly", check=True)
            sf.run("schedule", "unpause", "nightly", check=True)
    assert len(checked) >= 15, checked
    for name in ("nightly", "topical"):
        sf.run("schedule", "rm", name)


def test_inbox_approval_commands_parse(sf: Sandbox, gated_run: str) -> None:
    text = sf.run("inbox", check=True).stdout
    commands = quoted_commands(text)
    assert any(c.startswith(f"approve {gated_run}") for c in commands), text
    for command in commands:
        assert problem(command) is None, (command, problem(command))
