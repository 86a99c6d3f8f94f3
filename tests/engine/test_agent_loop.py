"""The durable agent loop in-process: SKILL.md skills with scripted tool calls."""

from __future__ import annotations

import json
from pathlib import Path

from agent_skills import REPORT_TURNS, write_skill
from harness import Engine

from sagaflow.agent import AGENT_TOOL_ACTIVITY, QUERY_AGENT, TURN_ACTIVITY
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
        assert len(await e.scheduled(handle, AGENT_TOOL_ACTIVITY)) == 4  # TodoWrite: the loop's own
        transcript = read_all(Path(status.transcript))
        assert "the notes" in transcript[0]["system"]
        results = [b for t in transcript if t["role"] == "user" and t["turn"]
                   for b in t["content"]]
        assert all(b["type"] == "tool_result" for b in results)
        assert "notes/a.md" in json.dumps(results)

    engine.run(scenario)
    assert (engine.root / "report.md").read_text().startswith("# Report")


async def _run_sizes(e: Engine, run_id: str) -> list[int]:
    """History bytes of each Temporal run of ``run_id``, newest first (follows continue-as-new)."""
    sizes: list[int] = []
    current = (await e.client.get_workflow_handle(run_id).describe()).run_id
    while current:
        history = await e.client.get_workflow_handle(run_id, run_id=current).fetch_history()
        sizes.append(sum(event.ByteSize() for event in history.events))  # as Temporal counts
        start = history.events[0].workflow_execution_started_event_attributes
        current = start.continued_execution_run_id
    return sizes


def test_a_500_turn_loop_continues_as_new_with_small_histories(engine: Engine) -> None:
    (engine.root / "data.txt").write_text("x\n", encoding="utf-8")
    write_skill(engine.root, "long", "Loop a while.\n", turns=[
        {"repeat": 499, "tools": [{"Glob": {"pattern": "data.txt"}}]},
        {"text": "Finished after $turn turns."},
    ])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("long", {"max_turns": "600"}, transport="scripted")
        assert await handle.result() == "Finished after 500 turns."
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        assert (status.turns, status.tool_calls) == (500, 499)
        sizes = await _run_sizes(e, handle.id)
        assert len(sizes) == 5, sizes  # 100 turns per Temporal run by default
        assert max(sizes) < 1_000_000, sizes
        print(f"500 turns: {len(sizes)} runs, history bytes {sizes}")

    engine.run(scenario)


def test_a_long_tool_output_stays_in_the_run_dir_not_in_history(engine: Engine) -> None:
    (engine.root / "big.txt").write_text(("y" * 40 + "\n") * 1500, encoding="utf-8")
    write_skill(engine.root, "big", "Read the big file.\n", turns=[
        {"tools": [{"Read": {"file_path": "big.txt"}}]}, {"text": "read it"},
    ])
    engine.loaded = load_skills(engine.root)

    async def scenario(e: Engine) -> None:
        handle = await e.launch("big", transport="scripted")
        assert await handle.result() == "read it"
        sizes = await _run_sizes(e, handle.id)
        assert sizes[0] < 20_000, sizes  # two 60 KB copies would be > 120 KB
        status = await handle.query(QUERY_AGENT, result_type=AgentStatus)
        transcript = read_all(Path(status.transcript))
        (result,) = transcript[-2]["content"]
        (kept,) = (Path(status.transcript).parent / "results").iterdir()
        assert result["content"] == kept.read_text(encoding="utf-8")  # the model got all of it
        assert len(result["content"]) > 60_000

    engine.run(scenario)
