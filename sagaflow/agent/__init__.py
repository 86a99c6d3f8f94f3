"""SKILL.md skills run by one durable agent loop (Claude Code's skills, on Temporal).

A directory with ``SKILL.md`` and no ``register()`` is a skill of kind ``skillmd``
(:mod:`sagaflow.agent.skillmd`). Every worker runs it with one built-in workflow,
:class:`sagaflow.agent.loop.AgentLoop` (``sagaflow_agent_loop``): each model turn is
one activity (``sagaflow_agent_turn``) and each tool call one activity
(``sagaflow_agent_tool``, running :mod:`sagaflow.agent.tools`), so a crash resumes after the
last completed turn or tool call and no completed call runs twice. The transcript
lives in the run directory (``agent/transcript.jsonl``); history keeps references
and short summaries.

This module is plain names (no temporalio import): the CLI, the interceptor and the
loop agree on one spelling.
"""

from __future__ import annotations

#: the workflow type every SKILL.md run has
AGENT_WORKFLOW = "sagaflow_agent_loop"
#: activities of the loop (registered by SagaflowPlugin on every worker)
START_ACTIVITY = "sagaflow_agent_start"
TURN_ACTIVITY = "sagaflow_agent_turn"
NOTICE_ACTIVITY = "sagaflow_agent_notice"
#: one tool call of the loop: runs the tools' run_tool, keeps big output in the run dir
AGENT_TOOL_ACTIVITY = "sagaflow_agent_tool"
#: the tools contract's activity (sagaflow.agent.tools.activity.run_tool)
TOOL_ACTIVITY = "sagaflow_run_tool"
#: every activity name the loop owns (a skill may not reuse one)
AGENT_ACTIVITIES = frozenset({
    START_ACTIVITY, TURN_ACTIVITY, NOTICE_ACTIVITY, AGENT_TOOL_ACTIVITY, TOOL_ACTIVITY,
})
#: the update ``sagaflow answer`` sends, and the query ``show`` reads
UPDATE_ANSWER = "sagaflow_answer"
QUERY_AGENT = "sagaflow_agent"
#: the skill kind of a SKILL.md directory (Python skills are ``python``)
KIND = "skillmd"
#: the file that makes a directory a SKILL.md skill
SKILL_FILE = "SKILL.md"
#: default turn limit (``--max-turns``)
DEFAULT_MAX_TURNS = 50
#: turns per Temporal run before continue-as-new (earlier when Temporal suggests it)
DEFAULT_TURNS_PER_RUN = 100
