"""The shapes every tool shares: a call, its outcome, a tool's definition, a refusal.

* :class:`ToolCall` is what the agent loop sends the ``sagaflow_run_tool`` activity (it is
  in Temporal history: keep it small; the loop passes paths, not file contents);
* :class:`ToolOutcome` is what goes back to the model as a ``tool_result``;
* :class:`Tool` is one tool: Claude Code's name, description and input schema, and the
  coroutine that runs it;
* :class:`ToolRefused` is raised by a tool for anything the model should be told (bad path,
  no match, non-zero exit...): it becomes ``ToolOutcome(is_error=True)``, never a retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sagaflow.agent.permissions import PermissionRules

#: the most text one tool result carries (characters): 60,000 characters stay under
#: Temporal's 256 KB payload warning even as 4-byte UTF-8 (the outcome is in history)
MAX_RESULT_CHARS = 60_000


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a run.

    Attributes:
        run_id: The run (for messages and logs).
        tool_use_id: The model's ``tool_use`` block id.
        name: The tool (``Read``, ``Bash``...).
        input: The model's input, checked against the tool's JSON schema before it runs.
        workspace: Absolute directory: where file tools may read and write, Bash's cwd.
        skill_dir: Absolute directory of the skill: file tools may also read here.
        rules: The run's permission rules.
        approved: A human approved this exact call after an ``ask`` (run it).
    """

    run_id: str
    tool_use_id: str
    name: str
    input: dict[str, Any]
    workspace: str
    skill_dir: str
    rules: PermissionRules = field(default_factory=PermissionRules)
    approved: bool = False


@dataclass(frozen=True)
class ToolOutcome:
    """What the model gets back.

    Attributes:
        content: The tool's text (capped at :data:`MAX_RESULT_CHARS`), or one sentence
            saying why it was refused or failed.
        is_error: The call was refused or failed (sent as ``tool_result`` ``is_error``).
        needs_approval: Set, and nothing was run, when an ``ask`` rule (or the default)
            matched and ``approved`` was false: one line naming what would run
            (``"Bash: npm test"``).
    """

    content: str
    is_error: bool = False
    needs_approval: str | None = None


class ToolRefused(Exception):
    """A tool call the model should hear about (refused, invalid or failed): one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Run = Callable[[ToolCall], Awaitable[str]]


@dataclass(frozen=True)
class Tool:
    """One tool: its Anthropic definition and what runs it.

    Attributes:
        name: Claude Code's tool name.
        description: What the model reads about it.
        input_schema: JSON schema (draft 2020-12) of the input, Claude Code's field names.
        run: ``await run(call) -> str``; raises :class:`ToolRefused` for a tool error.
        subject: The input field the approval line shows (``command``, ``file_path``...).
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    run: Run
    subject: str

    def definition(self) -> dict[str, Any]:
        """The Anthropic Messages API tool definition ``{"name","description","input_schema"}``."""
        return {"name": self.name, "description": self.description,
                "input_schema": self.input_schema}

    def describe(self, input: dict[str, Any]) -> str:
        """One line naming what a call would do, e.g. ``"Bash: npm test"``."""
        value = " ".join(str(input.get(self.subject, "")).split())
        if len(value) > 200:
            value = value[:197] + "..."
        return f"{self.name}: {value}"


def cap(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, keeping its start and end, saying what was cut."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n\n... [{cut} characters cut] ...\n\n{text[-tail:]}"
