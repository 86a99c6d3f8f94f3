"""Reading a SKILL.md skill: frontmatter, body, and Claude Code's argument substitution.

A SKILL.md file is YAML frontmatter between two ``---`` lines, then markdown::

    ---
    name: report                 # = the directory name: [a-z0-9-], at most 64 characters
    description: Summarise the workspace's notes   # at most 1,024 characters
    allowed-tools: Read, Glob, Grep, Write, Bash(git log:*)
    argument-hint: "[topic]"
    metadata: {sagaflow: {max-turns: 30}}   # sagaflow's own keys live under metadata
    ---
    Summarise the notes about $ARGUMENTS ...

Substitution follows Claude Code: ``$ARGUMENTS`` is the launch's free text as typed,
``$ARGUMENTS[N]`` and ``$N`` the N-th (0-based) shell-style word of it; a missing
index stays as written. Source: Claude Code's skills documentation ("Pass arguments
to skills").
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.agent import SKILL_FILE as SKILL_FILE  # defined there (discovery needs it, not this module)
from sagaflow.errors import SkillLoadError

NAME_MAX = 64
DESCRIPTION_MAX = 1024
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\$ARGUMENTS\[(\d+)\]|\$ARGUMENTS|\$(\d+)(?!\w)")
#: tools the loop itself provides (the others come from sagaflow.agent.tools)
LOOP_TOOLS = ("TodoWrite", "AskUserQuestion", "Task")
#: Claude Code tool names sagaflow knows but does not provide (the model is told so)
UNSUPPORTED_TOOLS = ("WebSearch", "NotebookEdit", "NotebookRead", "KillShell", "BashOutput",
                     "ExitPlanMode", "SlashCommand", "Skill")
#: Claude Code's newer name for Task
ALIASES = {"Agent": "Task"}


@dataclass(frozen=True)
class SkillMd:
    """One parsed SKILL.md.

    Attributes:
        name: The skill's name (its directory's name).
        dir: The skill directory (absolute).
        description: The frontmatter's description ("" when absent).
        body: The markdown after the frontmatter.
        allowed_tools: ``allowed-tools`` rules as written (``Bash(git log:*)``...).
        argument_hint: ``argument-hint`` (shown by ``sagaflow skills``).
        frontmatter: The whole frontmatter mapping (goes into the system prompt).
        options: ``metadata.sagaflow`` (``max-turns``, ``tier``, ``max-tokens``).
    """

    name: str
    dir: Path
    description: str
    body: str
    allowed_tools: tuple[str, ...] = ()
    argument_hint: str = ""
    frontmatter: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def _split(text: str, path: Path) -> tuple[str, str, int]:
    """``(frontmatter text, body, line of the frontmatter's first line)``."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillLoadError(
            f"{path}:1: SKILL.md must start with a '---' line and YAML frontmatter "
            "(name, description); add it."
        )
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1:]), 2
    raise SkillLoadError(f"{path}:1: the frontmatter has no closing '---' line; add one.")


def _tools(value: Any, path: Path) -> tuple[str, ...]:
    """``allowed-tools`` as a tuple: a list, or a comma/space separated string."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, str):  # "Read, Grep, Bash(git log:*)": split outside parentheses
        parts, depth, current = [], 0, ""
        for ch in value:
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and ch in ", ":
                if current.strip():
                    parts.append(current.strip())
                current = ""
            else:
                current += ch
        if current.strip():
            parts.append(current.strip())
        return tuple(parts)
    raise SkillLoadError(f"{path}: allowed-tools must be a list or a comma-separated string.")


def tool_name(rule: str) -> str:
    """The tool a rule names: ``Bash(git log:*)`` -> ``Bash``; aliases resolved."""
    name = rule.split("(", 1)[0].strip()
    return ALIASES.get(name, name)


def read_skillmd(directory: Path, known_tools: frozenset[str] | None = None) -> SkillMd:
    """Parse and validate ``directory/SKILL.md``.

    Args:
        directory: The skill directory.
        known_tools: Tool names a rule may name (None: not checked).

    Raises:
        SkillLoadError: unreadable file, malformed frontmatter (named as ``file:line``),
            a name that breaks the rules, a description too long, an unknown tool.
    """
    import yaml

    path = directory / SKILL_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillLoadError(f"Cannot read {path}: {exc}; fix its permissions or encoding.") from None
    head, body, first_line = _split(text, path)
    try:
        data = yaml.safe_load(head) if head.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is None or mark.line >= head.count("\n"):  # at the end: where it started
            mark = getattr(exc, "context_mark", None) or mark
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SkillLoadError(
            f"{path}:{line}: the frontmatter is not valid YAML ({problem}); fix that line."
        ) from None
    if not isinstance(data, dict):
        raise SkillLoadError(f"{path}:{first_line}: the frontmatter must be a YAML mapping "
                             "(name: ..., description: ...).")
    name = str(data.get("name") or directory.name)
    if not _NAME.match(name) or len(name) > NAME_MAX:
        raise SkillLoadError(
            f"{path}: skill name {name!r} must be lower-case letters, digits and single "
            f"hyphens, at most {NAME_MAX} characters; rename it."
        )
    if name != directory.name:
        raise SkillLoadError(
            f"{path}: name {name!r} differs from its directory {directory.name!r}; "
            "make them the same (Claude Code requires it)."
        )
    description = str(data.get("description") or "")
    if len(description) > DESCRIPTION_MAX:
        raise SkillLoadError(
            f"{path}: the description has {len(description)} characters, more than "
            f"{DESCRIPTION_MAX}; shorten it."
        )
    allowed = _tools(data.get("allowed-tools"), path)
    if known_tools is not None:
        for rule in allowed:
            tool = tool_name(rule)
            if tool.startswith("mcp__") or tool in known_tools or tool in UNSUPPORTED_TOOLS:
                continue
            raise SkillLoadError(
                f"{path}: allowed-tools names an unknown tool {tool!r}; "
                f"known: {', '.join(sorted(known_tools))}."
            )
    metadata = data.get("metadata")
    own = metadata.get("sagaflow") if isinstance(metadata, dict) else None
    return SkillMd(
        name=name, dir=directory.resolve(), description=description, body=body,
        allowed_tools=allowed, argument_hint=str(data.get("argument-hint") or ""),
        frontmatter=dict(data), options=dict(own) if isinstance(own, dict) else {},
    )


def split_words(arguments: str) -> list[str]:
    """Shell-style words of the free text (a plain split when quoting is broken)."""
    try:
        return shlex.split(arguments)
    except ValueError:
        return arguments.split()


def substitute(body: str, arguments: str) -> str:
    """Fill ``$ARGUMENTS[N]``, ``$N`` and ``$ARGUMENTS`` as Claude Code does."""
    words = split_words(arguments)

    def fill(match: re.Match[str]) -> str:
        number = match.group(1) or match.group(2)
        if number is None:
            return arguments
        index = int(number)
        return words[index] if index < len(words) else match.group(0)

    return _PLACEHOLDER.sub(fill, body)


def user_message(free_text: str, options: dict[str, str]) -> str:
    """The first user message: the free text, then one ``key: value`` line per option."""
    lines = [free_text] if free_text else []
    lines += [f"{key.replace('_', '-')}: {value}" for key, value in sorted(options.items())]
    return "\n".join(lines) or "Run this skill."


def system_prompt(skill: SkillMd, arguments: str, workspace: str) -> str:
    """The loop's system prompt: who the agent is, the frontmatter, the substituted body."""
    import yaml

    head = yaml.safe_dump(skill.frontmatter, sort_keys=False, allow_unicode=True).strip()
    return (
        f"You are running the skill {skill.name!r} as a durable sagaflow run, without a "
        f"human watching. Work in the workspace {workspace}. The skill's own files are in "
        f"{skill.dir}. Use the tools to act; when the task is done, answer with a short "
        "summary of what you did and where the results are.\n\n"
        f"Skill frontmatter:\n{head}\n\n{substitute(skill.body, arguments).strip()}\n"
    )
