"""A SKILL.md run parks: an ``ask`` Bash call until approve/reject, a question until answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent_helpers import user_skill
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure
from test_steer import launch_gated, outcome, wait_for

REPO = Path(__file__).resolve().parents[2]
ASK_BASH = [
    {"tools": [{"Bash": {"command": "echo approved >> side.txt"}}]},
    {"text": "finished: $last"},
]
QUESTION = [
    {"tools": [{"AskUserQuestion": {"question": "Which colour?", "options": ["red", "blue"]}}]},
    {"text": "chose: $last"},
]


def _unread(sf: Sandbox, run_id: str, status: str) -> dict[str, Any] | None:
    entries = json.loads(sf.run("inbox", "--json", check=True).stdout)
    rows = entries if isinstance(entries, list) else entries.get("entries", [])
    return next((e for e in rows if e["run_id"] == run_id and e["status"] == status), None)


def _hook(sf: Sandbox) -> str:
    proc = subprocess.run(
        [sys.executable, str(REPO / "hooks" / "session_start.py")], env=sf.env, cwd=sf.root,
        input=json.dumps({"hook_event_name": "SessionStart", "source": "startup"}),
        capture_output=True, text=True, timeout=30,
    )
    return proc.stdout


def test_ask_rule_parks_until_approved_then_runs(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    user_skill(sf, "shell", "Run the shell step.\n")  # Bash not allowed: it asks
    fake_model.script_turns(ASK_BASH)
    sf.run("launch", "shell", "--id", "ask-1", check=True)
    entry = wait_for(lambda: _unread(sf, "ask-1", "NEEDS_APPROVAL"), "the approval entry")
    assert "echo approved >> side.txt" in entry["summary"]
    assert "sagaflow approve ask-1" in entry["summary"]
    assert not (sf.root / "side.txt").exists()
    sf.run("approve", "ask-1", check=True)
    status, result = outcome(sf, "ask-1")
    assert status == "completed" and "finished" in result
    assert (sf.root / "side.txt").read_text() == "approved\n"


def test_ask_rule_rejected_tells_the_model(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    user_skill(sf, "shell", "Run the shell step.\n")
    fake_model.script_turns(ASK_BASH)
    sf.run("launch", "shell", "--id", "ask-2", check=True)
    wait_for(lambda: _unread(sf, "ask-2", "NEEDS_APPROVAL"), "the approval entry")
    sf.run("reject", "ask-2", "--reason", "not on Fridays", check=True)
    status, result = outcome(sf, "ask-2")
    assert status == "completed" and "rejected" in result and "not on Fridays" in result
    assert not (sf.root / "side.txt").exists()
    told = fake_model.requests[-1]["tool_results"][0]
    assert told["is_error"] is True


def test_question_parks_shows_in_inbox_and_hook_and_answer_resumes(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    user_skill(sf, "asker", "Ask which colour.\n")
    fake_model.script_turns(QUESTION)
    sf.run("launch", "asker", "--id", "q-1", check=True)
    entry = wait_for(lambda: _unread(sf, "q-1", "QUESTION"), "the question entry")
    assert "Which colour?" in entry["summary"] and "sagaflow answer q-1" in entry["summary"]
    hook = _hook(sf)
    assert "Which colour?" in hook and "sagaflow answer q-1" in hook
    row = wait_for(lambda: next((r for r in json.loads(sf.run("list", "--json", check=True)
                                                       .stdout) if r["run_id"] == "q-1"
                                 and r["state"] == "waiting"), None), "q-1 listed as waiting")
    assert row["waiting"] == "question:q1"  # like a gate: list shows what it waits on
    one_line_failure(sf.run("answer", "q-1", "--choice", "3"), 2, "not one of")
    sf.run("answer", "q-1", "--choice", "2", check=True)
    status, result = outcome(sf, "q-1")
    assert (status, result) == ("completed", "chose: The user answered: blue")
    assert _unread(sf, "q-1", "QUESTION") is None  # retired once answered
    one_line_failure(sf.run("answer", "q-1", "red"), 2, "already finished", "nothing to answer")


def test_answer_for_a_run_that_asks_nothing(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    user_skill(sf, "shell", "Run the shell step.\n")
    fake_model.script_turns(ASK_BASH)
    sf.run("launch", "shell", "--id", "ask-3", check=True)
    wait_for(lambda: _unread(sf, "ask-3", "NEEDS_APPROVAL"), "the approval entry")
    one_line_failure(sf.run("answer", "ask-3", "yes"), 2, "asks nothing")
    one_line_failure(sf.run("answer", "ask-3"), 2, "answer needs")
    sf.run("reject", "ask-3", "--reason", "done", check=True)
    gated = launch_gated(sf)
    one_line_failure(sf.run("answer", gated, "yes"), 2, "asks nothing", "gated run")
