"""The loop's own tools and stops: max turns, MCP/unknown tools, Task sub-agents, budget."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from agent_skills import write_skill
from harness import Engine
from temporalio.client import WorkflowFailureError

from sagaflow.agent import QUERY_AGENT
from sagaflow.agent.transcript import read_all
from sagaflow.agent.types import AgentStatus
from sagaflow.skills.discovery import load_skills


def _transcript(status: AgentStatus) -> str:
    return json.dumps(read_all(Path(status.transcript)))


def test_max_turns_fails_the_run_and_keeps_the_transcript(engine: Engine) -> None:
    write_skill(engine.root, "forever", "Never stop.\n",
                turns=[{"repeat": 50, "tools": [{"TodoWrite": {"todos": []}}]}])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("forever", {"max_turns": "3"}, transport="scripted")
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        entry = await e.entry(handle.id, "FAILED")
        assert "max turns reached: 3 model turns" in entry.summary
        assert "--max-turns" in entry.summary
        transcript = Path(e.home.run_dir(handle.id)) / "agent" / "transcript.jsonl"
        assert len(read_all(transcript)) == 2 + 3 + 2  # system, user, 3 turns, 2 results

    engine.run(scenario)


def test_mcp_and_unknown_tools_are_refused_to_the_model(engine: Engine) -> None:
    write_skill(engine.root, "mcp", "Use the server.\n",
                frontmatter="allowed-tools: mcp__github__search_issues\n", turns=[
                    {"tools": [{"mcp__github__search_issues": {"q": "x"}},
                               {"WebSearch": {"query": "x"}}, {"Teleport": {}},
                               {"TodoWrite": {"todos": "not a list"}}]},
                    {"text": "ok"},
                ])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("mcp", transport="scripted")
        assert await handle.result() == "ok"
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        results = read_all(Path(status.transcript))[-2]["content"]
        assert all(r["is_error"] for r in results)
        texts = [r["content"] for r in results]
        assert "server 'github' is not connected" in texts[0]
        assert "'WebSearch' is not available" in texts[1]
        assert "'Teleport' is not available" in texts[2]
        assert "TodoWrite.todos must be a list" in texts[3]

    engine.run(scenario)


def test_task_runs_a_sub_agent_with_its_own_transcript(engine: Engine) -> None:
    (engine.root / "data.txt").write_text("forty-two\n", encoding="utf-8")
    skill = write_skill(engine.root, "boss", "Delegate.\n")
    # regex rules (the sub-agent's turns count from 1 in its own transcript)
    (skill / "replies.yaml").write_text(yaml.safe_dump({"replies": [
        {"match": "^Run this skill", "tools": [{"Task": {"prompt": "Read data.txt"}}]},
        {"match": "^Read data.txt", "tools": [{"Read": {"file_path": "data.txt"}}]},
        {"match": "the answer is", "text": "sub says $last"},
        {"match": "forty-two", "text": "the answer is forty-two"},
    ]}), encoding="utf-8")
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("boss", transport="scripted")
        result = await handle.result()
        assert "sub says" in result
        run_dir = Path(e.home.run_dir(handle.id)) / "agent"
        tasks = list(run_dir.glob("task-*.jsonl"))
        assert len(tasks) == 1
        sub = json.dumps(read_all(tasks[0]))
        assert "Read data.txt" in sub and "forty-two" in sub
        assert [x.status for x in e.inbox(handle.id)] == ["DONE"]  # the sub-agent adds none
        status = await e.status(handle)
        assert status.model_calls == 4  # the boss's 2 turns and the sub-agent's 2

    engine.run(scenario)


FAKE_CLAUDE = """#!{python}
import json, os, sys
prompt = sys.stdin.read()
with open(os.environ["FAKE_CLAUDE_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "stdin": prompt}}) + "\\n")
print(json.dumps({{"type": "result", "subtype": "success", "is_error": False,
                  "result": "whole skill done", "usage": {{"input_tokens": 10,
                  "output_tokens": 5}}}}))
"""


def test_claude_transport_runs_the_whole_skill_as_one_step(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(FAKE_CLAUDE.format(python=sys.executable), encoding="utf-8")
    claude.chmod(0o755)
    log = tmp_path / "claude.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    write_skill(engine.root, "whole", "Do all of it: $ARGUMENTS\n",
                frontmatter="allowed-tools: Read, Bash(git log:*)\n")
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("whole", {"_extra": "now"}, transport="claude")
        assert await handle.result() == "whole skill done"
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        assert (status.turns, status.tool_calls) == (1, 0)

    engine.run(scenario)
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    argv = call["argv"]
    assert "Do all of it: now" in argv[argv.index("--append-system-prompt") + 1]
    assert argv[argv.index("--allowedTools") + 1] == "Read,Bash(git log:*)"
    assert call["cwd"] == str(engine.root) and call["stdin"] == "now"


def test_cancel_while_asking_keeps_the_transcript_and_retires_the_question(
    engine: Engine,
) -> None:
    write_skill(engine.root, "asker", "Ask.\n", turns=[
        {"tools": [{"AskUserQuestion": {"question": "Go on?"}}]}, {"text": "never"},
    ])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("asker", transport="scripted")
        entry = await e.entry(handle.id, "QUESTION")
        assert "Go on?" in entry.summary and f"sagaflow answer {handle.id}" in entry.summary
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        await e.entry(handle.id, "CANCELLED")
        question = next(x for x in e.inbox(handle.id) if x.status == "QUESTION")
        assert not question.unread  # retired: the hook no longer shows it
        transcript = Path(e.home.run_dir(handle.id)) / "agent" / "transcript.jsonl"
        assert "AskUserQuestion" in transcript.read_text()

    engine.run(scenario)


def test_config_yaml_permissions_reach_the_loop(engine: Engine) -> None:
    (engine.root / "secret.txt").write_text("hunter2\n", encoding="utf-8")
    engine.settings = dataclasses.replace(
        engine.settings, permissions={"deny": ("Read(./secret.txt)",)})
    write_skill(engine.root, "peek", "Peek.\n", frontmatter="allowed-tools: Read\n", turns=[
        {"tools": [{"Read": {"file_path": "secret.txt"}}]}, {"text": "told: $last"},
    ])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("peek", transport="scripted")
        result = await handle.result()
        assert "hunter2" not in result and "deny" in result.lower()
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        (told,) = read_all(Path(status.transcript))[-2]["content"]
        assert told["is_error"]

    engine.run(scenario)
