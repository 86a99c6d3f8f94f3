"""Every tool by name, and :func:`execute`: check a call, ask the rules, run it.

Adding a tool is adding its module's ``TOOL`` to :data:`TOOLS`. TodoWrite,
AskUserQuestion and Task are the agent loop's own (they change the run, not files);
``mcp__*`` tools are refused with a line naming the server.
"""

from __future__ import annotations

import errno
from functools import cache
from typing import TYPE_CHECKING, Any

from sagaflow.agent.permissions import explain, parse_rule
from sagaflow.agent.tools import bash, edit, glob, grep, read, webfetch, write
from sagaflow.agent.tools.base import Tool, ToolCall, ToolOutcome, ToolRefused, cap
from sagaflow.agent.tools.paths import INFRASTRUCTURE_ERRNOS

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (read.TOOL, write.TOOL, edit.TOOL, glob.TOOL, grep.TOOL, bash.TOOL, webfetch.TOOL)
}
#: tool name -> Anthropic tool definition {"name", "description", "input_schema"}
TOOL_SCHEMAS: dict[str, dict[str, Any]] = {name: tool.definition() for name, tool in TOOLS.items()}
#: handled by the agent loop, never by :func:`execute`
LOOP_TOOLS = frozenset({"TodoWrite", "AskUserQuestion", "Task"})
#: Claude Code tools sagaflow does not provide (named so the message can say so)
CLAUDE_CODE_ONLY = frozenset({"WebSearch", "NotebookEdit", "MultiEdit", "Agent", "Skill",
                              "SlashCommand", "BashOutput", "KillShell", "KillBash",
                              "ExitPlanMode", "LS", "NotebookRead"})


@cache
def _validator(name: str) -> Validator:
    from jsonschema import Draft202012Validator  # imported on the first call, not by the loop

    schema = TOOLS[name].input_schema
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def input_problem(name: str, data: Any) -> str | None:
    """One sentence naming the first schema violation of ``data`` for tool ``name``, or None."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(name).iter_errors(data))
    if error is None:
        return None
    where = "".join(f"[{p!r}]" for p in error.absolute_path)
    return f"{name}: the input{(' ' + where) if where else ''} is invalid: {error.message}."


def unknown_tool(name: str) -> str:
    """Why ``name`` cannot run here (an MCP tool names its server)."""
    if name.startswith("mcp__"):
        server = name.split("__")[1] if name.count("__") >= 1 else name
        return (f"{name}: MCP tools are not supported by sagaflow (server '{server}'); "
                "do the task with the built-in tools.")
    if name in LOOP_TOOLS:
        return f"{name} is handled by the agent loop, not by sagaflow_run_tool."
    return f"{name} is not a tool here; the tools are {', '.join(sorted(TOOLS))}."


async def execute(call: ToolCall) -> ToolOutcome:
    """Run one tool call: schema check, permission decision, then the tool.

    Returns:
        ``ToolOutcome(content)`` on success (capped at ``MAX_RESULT_CHARS``);
        ``is_error=True`` with one sentence when the tool is unknown, the input fails
        its schema, a ``deny`` rule matched, or the tool refused or failed (non-zero
        exit, missing file, path escape...);
        ``needs_approval="Bash: npm test"`` (nothing run) when the call asks and
        ``call.approved`` is false.

    Raises:
        OSError: the worker's own trouble (disk full, I/O error): Temporal retries.
        ConfigError: a permission rule is malformed (rules are checked when loaded).
        Exception: any other unexpected fault (a bug) propagates, for Temporal to retry.
    """
    tool = TOOLS.get(call.name)
    if tool is None:
        return ToolOutcome(unknown_tool(call.name), is_error=True)
    problem = input_problem(call.name, call.input)
    if problem:
        return ToolOutcome(problem, is_error=True)
    decision, rule = explain(call.rules, call.name, call.input, call.workspace)
    if decision == "deny":
        return ToolOutcome(
            f"{tool.describe(call.input)} was refused by the permission rule deny "
            f"{rule!r}; do not try it again, find another way or stop.", is_error=True)
    if decision == "ask" and not call.approved:
        return ToolOutcome(f"Waiting for a human to approve {tool.describe(call.input)}.",
                           needs_approval=tool.describe(call.input))
    try:
        return ToolOutcome(cap(await tool.run(call)))
    except ToolRefused as refused:
        return ToolOutcome(cap(refused.message), is_error=True)
    except OSError as exc:
        if exc.errno in INFRASTRUCTURE_ERRNOS or exc.errno in (errno.EAGAIN,):
            raise
        # an OSError a tool did not expect (e.g. Bash's cwd vanished) is the model's to hear
        return ToolOutcome(f"{call.name}: {exc.strerror or exc}.", is_error=True)


def allowed_tools_problems(rules: list[str], *, source: str = "allowed-tools") -> list[str]:
    """Every problem of a skill's ``allowed-tools`` at once, one sentence each: malformed
    rules, MCP tools (naming the server), Claude Code tools sagaflow lacks, unknown names.
    Empty when every rule names a tool sagaflow runs."""
    from sagaflow.errors import ConfigError

    problems = []
    for text in rules:
        try:
            rule = parse_rule(text, source=source)
        except ConfigError as exc:
            problems.append(exc.message)
            continue
        if rule.tool in TOOLS or rule.tool in LOOP_TOOLS:
            continue
        if rule.tool.startswith("mcp__"):
            problems.append(unknown_tool(rule.tool if rule.tool.count("__") > 1
                                         else f"{rule.tool}__*").split(";")[0] + ".")
        elif rule.tool in CLAUDE_CODE_ONLY:
            problems.append(f"{source} names {rule.tool}, a Claude Code tool sagaflow does not "
                            "provide; remove it or use one of " + ", ".join(sorted(TOOLS)) + ".")
        else:
            problems.append(f"{source} names {rule.tool!r}, which is not a tool; the tools are "
                            + ", ".join(sorted({*TOOLS, *LOOP_TOOLS})) + ".")
    return problems
