"""The tools SKILL.md skills call, with Claude Code's names and input shapes.

Public names (the contract with the agent loop):

* :data:`TOOL_SCHEMAS` — tool name -> Anthropic tool definition
  ``{"name", "description", "input_schema"}`` for Read, Write, Edit, Glob, Grep, Bash and
  WebFetch;
* :class:`ToolCall`, :class:`ToolOutcome` — what the ``sagaflow_run_tool`` activity
  (:mod:`sagaflow.agent.tools.activity`) takes and returns;
* :func:`execute` — run one call without Temporal (what the activity does inside).

Each tool is a small module (``read``, ``write``, ``edit``, ``glob``, ``grep``, ``bash``,
``webfetch``); confinement is :mod:`sagaflow.agent.tools.paths`, the permission rules
:mod:`sagaflow.agent.permissions`.
"""

from sagaflow.agent.tools.base import ToolCall, ToolOutcome
from sagaflow.agent.tools.registry import TOOL_SCHEMAS, TOOLS, execute

__all__ = ["TOOLS", "TOOL_SCHEMAS", "ToolCall", "ToolOutcome", "execute"]
