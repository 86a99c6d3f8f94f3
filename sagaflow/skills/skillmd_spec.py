"""A SKILL.md directory as a :class:`~sagaflow.skills.registry.SkillSpec` (kind ``skillmd``).

Launch words become the agent loop's input (:class:`sagaflow.agent.types.AgentInput`)::

    sagaflow launch report notes about cats --audience kids --max-turns 20

* free text (``notes about cats``) is ``$ARGUMENTS`` (``$0``, ``$1``... its words);
* ``--max-turns N`` (default :data:`sagaflow.agent.DEFAULT_MAX_TURNS`, or the skill's
  ``metadata.sagaflow.max-turns``), ``--turns-per-run N`` (continue-as-new period),
  ``--tier NAME``, ``--max-tokens N``, ``--allow-tools "Bash(make:*),Write"`` and
  ``--question-timeout DURATION`` steer the loop;
* every other ``--key value`` goes into the first user message (``key: value`` lines).

The launch's working directory is the run's workspace.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sagaflow.agent import DEFAULT_MAX_TURNS, DEFAULT_TURNS_PER_RUN, KIND
from sagaflow.agent.skillmd import LOOP_TOOLS, SkillMd, read_skillmd
from sagaflow.agent.types import AgentInput
from sagaflow.errors import SkillArgumentError
from sagaflow.skills.args import EXTRA
from sagaflow.skills.registry import SkillSpec

#: launch options the loop takes (the rest go to the model)
LOOP_OPTIONS = ("max_turns", "turns_per_run", "tier", "max_tokens", "allow_tools",
                "question_timeout")


def known_tools() -> frozenset[str]:
    """Tool names ``allowed-tools`` may name (the tools package's and the loop's)."""
    from sagaflow.agent.tools import TOOL_SCHEMAS

    return frozenset(TOOL_SCHEMAS) | frozenset(LOOP_TOOLS)


def _number(args: dict[str, str], key: str, default: int, skill: str) -> int:
    raw = args.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SkillArgumentError(
            f"--{key.replace('_', '-')} {raw!r} for skill {skill} must be a whole number above 0."
        )
    return value


def build_agent_input(skill: SkillMd, run_dir: str, args: dict[str, str]) -> AgentInput:
    """The loop's input from a launch's arguments (see the module docstring)."""
    from sagaflow.durations import parse_duration

    own = skill.options
    timeout = args.get("question_timeout")
    allow = [r.strip() for r in args.get("allow_tools", "").split(",") if r.strip()]
    return AgentInput(
        skill=skill.name, skill_dir=str(skill.dir), workspace=os.getcwd(), run_dir=run_dir,
        arguments=_free_text(args.get(EXTRA, "")),
        options={k: v for k, v in args.items() if k not in LOOP_OPTIONS and k != EXTRA},
        max_turns=_number(args, "max_turns", int(own.get("max-turns", DEFAULT_MAX_TURNS)),
                          skill.name),
        turns_per_run=_number(args, "turns_per_run", DEFAULT_TURNS_PER_RUN, skill.name),
        tier=str(args.get("tier") or own.get("tier") or "SONNET").upper(),
        max_tokens=_number(args, "max_tokens", int(own.get("max-tokens", 8192)), skill.name),
        allow_tools=allow,
        question_timeout_seconds=parse_duration(timeout, option="--question-timeout")
        if timeout else None,
    )


def skillmd_spec(directory: Path) -> SkillSpec:
    """Validate ``directory/SKILL.md`` and describe it as a runnable skill.

    Raises:
        SkillLoadError: what :func:`sagaflow.agent.skillmd.read_skillmd` refuses.
    """
    from sagaflow.agent.loop import AgentLoop

    skill = read_skillmd(directory, known_tools())

    def build_input(*, run_id: str, run_dir: str, inbox_path: str, cli_args: Any) -> AgentInput:
        return build_agent_input(skill, run_dir, dict(cli_args.items()))

    return SkillSpec(
        name=skill.name, workflow_cls=AgentLoop, build_input=build_input,
        description=skill.description.strip().splitlines()[0] if skill.description else "",
        kind=KIND,
    )


def _free_text(recorded: object) -> str:
    """The launch's free words as one shell-style line (``$ARGUMENTS``).

    The run record keeps them as a JSON list (:mod:`sagaflow.skills.args`); a plain
    string (a hand-written ``--arg _extra=...``) is taken as written.
    """
    import json
    import shlex

    if isinstance(recorded, list):  # build_input's view (sagaflow.skills.args.skill_view)
        return shlex.join(str(w) for w in recorded)
    text = str(recorded or "")
    try:
        words = json.loads(text) if text else []
    except ValueError:
        return text
    return shlex.join(str(w) for w in words) if isinstance(words, list) else text
