"""The durable agent loop in-process: SKILL.md skills with scripted tool calls."""

from __future__ import annotations

import json
from pathlib import Path

from agent_skills import REPORT_TURNS, write_skill
from harness import Engine

from sagaflow.agent import QUERY_AGENT, TOOL_ACTIVITY, TURN_ACTIVITY
from sagaflow.agent.transcript import read_all
from sagaflow.agent.types import AgentStatus
from sagaflow.skills.discovery import load_skills


def _notes(root: Path) -> None:
    (root / "notes").mkdir()
    (root / "notes" / "a.md").write_text("alpha\nTODO: beta\n", encoding="utf-8")
    (root / "notes" / "b.md").write_text("gamma\n", encoding="utf-8")


def test_skillmd_run_globs_reads_greps_writes_and_finishes(engine: Engine) -> None:
    _notes(engine.root)
    write_skill(engine.root, "report", "Summarise $ARGUMENTS into report.md.\n",
                turns=REPORT_TURNS, frontmatter="allowed-tools: Read, Glob, Grep, Write\n")
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("report", {"_extra": "the notes"}, transport="scripted")
        result = await handle.result()
        assert result.startswith("Done: report.md")
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        assert (status.turns, status.tool_calls) == (5, 5)
        assert [t.content for t in status.todos] == ["write report"]
        entry = await e.entry(handle.id, "DONE")
        assert "report.md summarises 2 notes" in entry.summary
        assert len(await e.scheduled(handle, TURN_ACTIVITY)) == 5
        assert len(await e.scheduled(handle, TOOL_ACTIVITY)) == 4  # TodoWrite: the loop's own
        transcript = read_all(Path(status.transcript))
        assert "the notes" in transcript[0]["system"]
        results = [b for t in transcript if t["role"] == "user" and t["turn"]
                   for b in t["content"]]
        assert all(b["type"] == "tool_result" for b in results)
        assert "notes/a.md" in json.dumps(results)

    engine.run(scenario)
    assert (engine.root / "report.md").read_text().startswith("# Report")
