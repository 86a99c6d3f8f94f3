"""Tool definitions the model is given: the tools package's, plus the loop's own.

TodoWrite, AskUserQuestion and Task are handled by the loop workflow itself (their
state lives in the run), with Claude Code's names and input shapes; the file, shell
and web tools come from :data:`sagaflow.agent.tools.TOOL_SCHEMAS`.
"""

from __future__ import annotations

from typing import Any

LOOP_SCHEMAS: dict[str, dict[str, Any]] = {
    "TodoWrite": {
        "name": "TodoWrite",
        "description": "Create and update the run's task list (kept in the run, shown by "
                       "'sagaflow show'). Send the whole list each time.",
        "input_schema": {
            "type": "object",
            "properties": {"todos": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "content": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                    "activeForm": {"type": "string"},
                },
                "required": ["content", "status"],
            }}},
            "required": ["todos"],
        },
    },
    "AskUserQuestion": {
        "name": "AskUserQuestion",
        "description": "Ask the human a question and wait for the answer (the run parks "
                       "until 'sagaflow answer'). Use only when you cannot go on without it.",
        "input_schema": {
            "type": "object",
            "properties": {
                "question": {"type": "string"},
                "options": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["question"],
        },
    },
    "Task": {
        "name": "Task",
        "description": "Run a sub-agent with its own transcript on a self-contained task; "
                       "returns its final answer.",
        "input_schema": {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "prompt": {"type": "string"},
                "subagent_type": {"type": "string"},
            },
            "required": ["prompt"],
        },
    },
}


def _tool_schemas() -> dict[str, dict[str, Any]]:
    from sagaflow.agent.tools import TOOL_SCHEMAS

    return {**TOOL_SCHEMAS, **LOOP_SCHEMAS}


def tool_names() -> list[str]:
    """Every tool a SKILL.md run may call, sorted."""
    return sorted(_tool_schemas())


def schemas_for(names: list[str]) -> list[dict[str, Any]]:
    """The definitions of ``names`` (unknown names left out), in that order."""
    every = _tool_schemas()
    return [every[name] for name in names if name in every]


def check_input(name: str, value: dict[str, Any]) -> str | None:
    """A loop tool's input problem in one sentence, or None when it fits its schema."""
    schema = LOOP_SCHEMAS[name]["input_schema"]
    missing = [key for key in schema.get("required", []) if key not in value]
    if missing:
        return f"{name} needs {', '.join(missing)}; send them."
    for key, spec in schema["properties"].items():
        if key in value and spec.get("type") == "array" and not isinstance(value[key], list):
            return f"{name}.{key} must be a list."
        if key in value and spec.get("type") == "string" and not isinstance(value[key], str):
            return f"{name}.{key} must be a string."
    return None
