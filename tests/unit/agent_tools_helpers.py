"""Building tool calls for the agent-tool tests, and running them without Temporal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sagaflow.agent.permissions import PermissionRules
from sagaflow.agent.tools import ToolCall, ToolOutcome, execute

#: every tool allowed, so a test sees the tool itself (permission tests pass their own)
ALLOW_ALL = PermissionRules(allow=("Bash", "Write", "Edit", "WebFetch"))


def call(name: str, ws: Path, skill_dir: Path | None = None, *, rules: PermissionRules = ALLOW_ALL,
         approved: bool = False, **input: Any) -> ToolCall:
    return ToolCall(run_id="run-1", tool_use_id="toolu_1", name=name, input=dict(input),
                    workspace=str(ws), skill_dir=str(skill_dir or ""), rules=rules,
                    approved=approved)


def run(name: str, ws: Path, skill_dir: Path | None = None, **kw: Any) -> ToolOutcome:
    return asyncio.run(execute(call(name, ws, skill_dir, **kw)))
