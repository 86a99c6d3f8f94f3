"""Payloads of the agent loop: what history records (small: references and summaries).

Plain dataclasses (no temporalio import). The transcript itself is a file in the run
directory (:mod:`sagaflow.agent.transcript`); these carry its path and counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AgentInput:
    """The loop workflow's input (what ``launch`` builds for a SKILL.md skill).

    Attributes:
        skill: The skill's name.
        skill_dir: Its directory (absolute).
        workspace: The launch's working directory: file tools work inside it.
        run_dir: The run directory (the transcript lives in ``run_dir/agent/``).
        arguments: The launch's free text (``$ARGUMENTS``).
        options: The launch's ``--key value`` options.
        max_turns: Model turns before the run fails with "max turns reached".
        turns_per_run: Turns per Temporal run before continue-as-new.
        tier: The model tier (``SONNET``...).
        max_tokens: ``max_tokens`` of each model turn.
        allow_tools: Extra allow rules (``--allow-tools``).
        question_timeout_seconds: How long an AskUserQuestion waits (None: forever).
        parent_tool_use_id: Set for a Task sub-agent (a child run).
        prompt: A Task sub-agent's prompt (instead of the skill's body and arguments).
        carry: State carried over continue-as-new (None on the first run).
    """

    skill: str
    skill_dir: str
    workspace: str
    run_dir: str
    arguments: str = ""
    options: dict[str, str] = field(default_factory=dict)
    max_turns: int = 50
    turns_per_run: int = 200
    tier: str = "SONNET"
    max_tokens: int = 8192
    allow_tools: list[str] = field(default_factory=list)
    question_timeout_seconds: float | None = None
    parent_tool_use_id: str = ""
    prompt: str = ""
    carry: Carry | None = None


@dataclass
class Rules:
    """Permission rules as lists (the tools contract's ``PermissionRules``)."""

    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)


@dataclass
class StartResult:
    """What ``sagaflow_agent_start`` set up: the transcript and the run's tool rules."""

    transcript: str
    tools: list[str]
    rules: Rules
    mcp_servers: list[str] = field(default_factory=list)


@dataclass
class ToolUse:
    """One ``tool_use`` block of a model turn."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass
class ToolResult:
    """What goes back to the model for one tool call (appended to the transcript)."""

    tool_use_id: str
    content: str
    is_error: bool = False
    path: str = ""  # the whole content is in this file (run dir) when it was long


@dataclass
class ToolRef:
    """``sagaflow_agent_tool``'s result: a short outcome, or a reference to a file.

    Attributes:
        content: The tool's output when short; else its first characters.
        path: The file holding the whole output ("" when ``content`` is whole).
        needs_approval: Set when an ``ask`` rule matched (the tools contract's meaning).
    """

    content: str
    is_error: bool
    path: str = ""
    needs_approval: str | None = None


@dataclass
class TurnInput:
    """One model turn: append ``results`` to the transcript, then ask the model.

    ``prompt_bytes`` (the transcript's size) lets the interceptor check the budget
    against the turn's worst case before it starts.
    """

    run_id: str
    transcript: str
    turn: int
    results: list[ToolResult] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    tier_name: str = "SONNET"
    max_tokens: int = 8192
    prompt_bytes: int = 0
    skill_dir: str = ""
    #: for the ``claude`` transport (the whole skill in one session): its workspace,
    #: pre-approved rules and turn limit
    workspace: str = ""
    allow: list[str] = field(default_factory=list)
    max_turns: int = 50


@dataclass
class TurnUsage:
    """Tokens and cost of one turn (the fields of the engine's ``StepUsage``)."""

    model: str
    transport: str
    tier: str = ""
    seconds: float = 0.0
    attempt: int = 1
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    stop_reason: str = ""


@dataclass
class TurnResult:
    """A model turn as history keeps it: its tool calls and a short text summary."""

    turn: int
    text: str
    tool_uses: list[ToolUse]
    stop_reason: str
    usage: TurnUsage
    transcript_bytes: int = 0


@dataclass
class Question:
    """A pending AskUserQuestion."""

    tool_use_id: str
    text: str
    choices: list[str] = field(default_factory=list)
    asked_at: str = ""


@dataclass
class AnswerRequest:
    """``sagaflow_answer`` update: free text, or a 1-based choice."""

    text: str = ""
    choice: int = 0
    by: str = ""


@dataclass
class NoticeInput:
    """``sagaflow_agent_notice``: a question's inbox entry opened (or retired)."""

    run_id: str
    skill: str
    key: str
    opened: bool
    question: str
    choices: list[str]
    timestamp_iso: str


@dataclass
class Todo:
    """One TodoWrite item as Claude Code shapes it."""

    content: str
    status: str = "pending"
    activeForm: str = ""  # Claude Code's field name


@dataclass
class Carry:
    """What a continued run inherits: the transcript, counts, todos, pending results."""

    transcript: str
    turns: int
    tool_calls: int
    tools: list[str]
    rules: Rules
    results: list[ToolResult] = field(default_factory=list)
    todos: list[Todo] = field(default_factory=list)
    transcript_bytes: int = 0
    mcp_servers: list[str] = field(default_factory=list)
    spent_usd: float = 0.0
    model_calls: int = 0
    questions: int = 0


@dataclass
class AgentStatus:
    """What the ``sagaflow_agent`` query answers (``show``)."""

    turns: int
    tool_calls: int
    todos: list[Todo]
    question: Question | None
    transcript: str
    last_text: str = ""
