"""``spawn_subagent(..., tools_needed=True)`` through the real CLI, worker daemon and the fake
Messages API scripting ``tool_use``: the 0.10-style skill (tests/skills/legacy-010, with
``--target``) asks a reviewer with tools to "read the target file"; the step's tool calls
run in the launch's workspace under the run's permission rules (config.yaml
``permissions:`` included), refusals reach the model as tool errors, the final answer goes
through ``output_schema``, the step's cost is counted with the run's model steps, and a
worker SIGKILLed mid-step resumes from the step's transcript (no tool call runs twice)."""

from __future__ import annotations

import json
import os
import signal

from fake_anthropic import FakeAnthropic
from fake_tools import turn_number
from sandbox import Sandbox

GOOD = '{"TITLE": "Good", "POINTS": ["alpha"]}'
REVIEWED = '{"TITLE": "Reviewed", "POINTS": ["read it"]}'


def _launch(sf: Sandbox, *words: str) -> dict:
    proc = sf.run("launch", "legacy-010", "good", *words, "--await", "--json", check=True)
    return dict(json.loads(proc.stdout))


def _tool_requests(fake: FakeAnthropic) -> list[dict]:
    return [r for r in fake.requests if "tools" in r["json"]]


def test_tools_needed_reads_the_target_file(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.install_skill("legacy-010")
    fake_model.add_reply(r"Analyse: good", GOOD)
    target = sf.root / "target.txt"
    target.write_text("the secret is 42\n", encoding="utf-8")
    fake_model.script_turns([
        {"text": "Reading it.", "tools": [{"Read": {"file_path": str(target)}}]},
        {"text": REVIEWED},
    ])
    out = _launch(sf, "--target", str(target))
    assert out["result"].startswith("Reviewed: 1 points")  # the final answer, via the schema
    requests = _tool_requests(fake_model)
    assert len(requests) == 2 and all("tool_problem" not in r for r in requests)
    first = requests[0]["json"]
    assert f"read the target file {target}" in json.dumps(first["messages"])
    assert {t["name"] for t in first["tools"]} >= {"Read", "Grep", "Glob", "Bash", "Write"}
    assert "OUTPUT FORMAT" in json.dumps(first["system"])  # output_schema still applies
    (result,) = requests[1]["tool_results"]
    assert "the secret is 42" in str(result["content"]) and not result.get("is_error")
    steps = sf.home / "runs" / out["run_id"] / "steps"
    record = json.loads(next(steps.glob("*-reviewer.json")).read_text())
    assert record["usage"]["input_tokens"] > 0 and "notes" not in record
    assert next(steps.glob("*-reviewer.tools.jsonl")).stat().st_size > 0
    timeline = json.loads(sf.run("show", out["run_id"], "--json", check=True).stdout)
    roles = [s["role"] for s in timeline["steps"] if s["type"] == "spawn_subagent"]
    assert roles == ["analyst", "reviewer"]
    reviewer = next(s for s in timeline["steps"] if s.get("role") == "reviewer")
    analyst = next(s for s in timeline["steps"] if s.get("role") == "analyst")
    assert reviewer["input_tokens"] > analyst["input_tokens"]  # both turns counted


def test_tools_needed_refusals_and_config_permissions(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("legacy-010")
    fake_model.add_reply(r"Analyse: good", GOOD)
    outside = sf.root.parent / "outside.txt"
    outside.write_text("not yours\n", encoding="utf-8")
    (sf.home / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
    (sf.home / "config.yaml").write_text(
        "permissions:\n  allow: ['Bash(echo allowed:*)']\n", encoding="utf-8")
    fake_model.script_turns([
        {"tools": [{"Read": {"file_path": str(outside)}},
                   {"Bash": {"command": "echo allowed >> ran.txt"}},
                   {"Bash": {"command": "touch denied.txt"}}]},
        {"text": REVIEWED},
    ])
    out = _launch(sf, "--target", "target.txt")
    assert out["result"].startswith("Reviewed: 1 points")
    escape, allowed, asked = _tool_requests(fake_model)[1]["tool_results"]
    assert escape["is_error"] and "not yours" not in str(escape["content"])
    assert not allowed.get("is_error")
    assert (sf.root / "ran.txt").read_text(encoding="utf-8") == "allowed\n"  # ran once
    assert asked["is_error"] and "permissions: allow:" in str(asked["content"])
    assert not (sf.root / "denied.txt").exists()


def test_sigkill_mid_step_resumes_from_the_transcript(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("legacy-010")
    fake_model.add_reply(r"Analyse: good", GOOD)
    (sf.home / "config.yaml").parent.mkdir(parents=True, exist_ok=True)
    (sf.home / "config.yaml").write_text("permissions:\n  allow: ['Bash(echo:*)']\n",
                                         encoding="utf-8")
    fake_model.script_turns([
        {"repeat": 3, "tools": [{"Bash": {"command": "echo call-$turn >> side.txt"}}]},
        {"text": REVIEWED},
    ])
    fake_model.hold_turn(3, 30)  # turn 3 reads the 2nd call's result: the crash window
    sf.run("launch", "legacy-010", "good", "--target", "t.txt", "--id", "tn-kill", check=True)
    assert fake_model.wait_for_requests(4, timeout=90)  # the analyst and reviewer turns 1-3
    side = sf.root / "side.txt"
    assert side.read_text().splitlines() == ["call-1", "call-2"]
    worker = sf.worker_pid()
    assert worker is not None
    os.kill(worker, signal.SIGKILL)  # the daemon this test's launch started
    proc = sf.run("launch", "legacy-010", "good", "--id", "tn-kill", "--await", "--json",
                  check=True, timeout=180)
    assert json.loads(proc.stdout)["result"].startswith("Reviewed: 1 points")
    assert side.read_text().splitlines() == ["call-1", "call-2", "call-3"]  # each ran once
    turns = [turn_number(r["json"]) for r in _tool_requests(fake_model)]
    assert sorted(set(turns)) == [1, 2, 3, 4]
    again = sorted(t for t in set(turns) if turns.count(t) > 1)
    assert again in ([], [3]), turns  # only the turn in flight at the kill is asked again
