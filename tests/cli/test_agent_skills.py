"""SKILL.md skills through the real CLI, worker daemon and the fake Messages API."""

from __future__ import annotations

import json

from agent_helpers import REPORT_TURNS, notes, user_skill
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

REPORT = "Summarise the notes about $ARGUMENTS into report.md.\n"
ALLOWED = "allowed-tools: Read, Glob, Grep, Write\n"


def test_skillmd_report_with_anthropic_tool_use(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    notes(sf.root)
    user_skill(sf, "report", REPORT, frontmatter=ALLOWED)
    fake_model.script_turns(REPORT_TURNS)
    listed = json.loads(sf.run("skills", "--json", check=True).stdout)
    row = next(r for r in listed if r["name"] == "report")
    assert (row["kind"], row["description"]) == ("skillmd", "report test skill")
    proc = sf.run("launch", "report", "cats", "and", "dogs", "--audience", "kids",
                  "--id", "rep-1", "--await", check=True)
    assert "Report written to report.md" in proc.stdout
    assert (sf.root / "report.md").read_text(encoding="utf-8").startswith("# Report")
    tool_requests = [r for r in fake_model.requests if "tools" in r["json"]]
    assert len(tool_requests) == 4
    first = tool_requests[0]["json"]
    assert "cats and dogs" in first["system"]
    assert "audience: kids" in json.dumps(first["messages"])
    assert {t["name"] for t in first["tools"]} >= {"Read", "Write", "Glob", "Grep", "TodoWrite"}
    assert all("tool_problem" not in r for r in tool_requests)
    assert [len(r.get("tool_results", [])) for r in tool_requests] == [0, 1, 2, 1]
    inbox = sf.run("inbox", "--json", check=True).stdout
    assert "Report written to report.md" in inbox
    shown = sf.run("show", "rep-1", check=True).stdout
    assert "sagaflow_agent_turn" in shown and "sagaflow_agent_tool" in shown
    assert "agent     4 turns, 4 tool calls" in shown
    timeline = json.loads(sf.run("show", "rep-1", "--json", check=True).stdout)
    turns = [s for s in timeline["steps"] if s["type"] == "sagaflow_agent_turn"]
    assert [s["role"] for s in turns] == ["turn 1", "turn 2", "turn 3", "turn 4"]
    assert all(s["input_tokens"] for s in turns)
    tools = [s["role"] for s in timeline["steps"] if s["type"] == "sagaflow_agent_tool"]
    assert tools == ["Glob", "Read", "Grep", "Write"]
    assert timeline["tokens"]["total"] > 0


def test_skillmd_scripted_offline(sf: Sandbox) -> None:
    notes(sf.root)
    user_skill(sf, "report", REPORT, frontmatter=ALLOWED, turns=REPORT_TURNS)
    proc = sf.run("launch", "report", "--transport", "scripted", "--await", check=True)
    assert "Report written" in proc.stdout
    assert (sf.root / "report.md").is_file()
