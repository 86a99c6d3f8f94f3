"""Where a run's permission rules come from, merged in one :class:`PermissionRules`.

Sources, each adding to the ``allow`` / ``ask`` / ``deny`` lists (order kept, duplicates
dropped; the order of sources does not change a decision, since deny beats ask beats
allow whatever their source):

1. Claude Code's managed settings (``/etc/claude-code/managed-settings.json``);
2. the user's Claude Code settings, ``$CLAUDE_CONFIG_DIR/settings.json`` (default
   ``~/.claude/settings.json``);
3. the project's ``<workspace>/.claude/settings.json`` and ``.claude/settings.local.json``;
4. sagaflow's ``config.yaml`` ``permissions:`` (``Settings.permissions``);
5. the skill's ``allowed-tools`` (allow rules);
6. ``--allow-tools`` (allow rules).

A settings file that is missing is skipped; one that is not valid JSON, or holds a
malformed rule, is a :class:`~sagaflow.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sagaflow.agent.permissions import PermissionRules, parse_rule
from sagaflow.errors import ConfigError

MANAGED_SETTINGS = Path("/etc/claude-code/managed-settings.json")
LISTS = ("allow", "ask", "deny")


def claude_dir() -> Path:
    """Claude Code's configuration directory: ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def split_tool_list(value: str | Sequence[str] | None) -> list[str]:
    """``allowed-tools`` as SKILL.md writes it: a list, or one string of rules separated by
    commas or spaces (``"Read, Grep, Bash(git log:*)"``); parentheses keep their contents."""
    if value is None:
        return []
    if not isinstance(value, str):
        return [str(item).strip() for item in value if str(item).strip()]
    rules, current, depth = [], "", 0
    for ch in value:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if depth == 0 and (ch == "," or ch.isspace()):
            if current.strip():
                rules.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        rules.append(current.strip())
    return rules


def settings_permissions(path: Path) -> dict[str, list[str]]:
    """The ``permissions`` lists of one Claude Code settings file (empty when it is missing).

    Raises:
        ConfigError: the file is unreadable, not JSON, or its lists are not lists of strings.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}; fix its permissions.") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix it."
        ) from None
    section = data.get("permissions") if isinstance(data, dict) else None
    return _lists(section or {}, str(path))


def _lists(section: Any, source: str) -> dict[str, list[str]]:
    if not isinstance(section, Mapping):
        raise ConfigError(f"'permissions' in {source} must be a mapping of allow/ask/deny lists.")
    found: dict[str, list[str]] = {}
    for key in LISTS:
        value = section.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'permissions.{key}' in {source} must be a list of rule strings.")
        found[key] = value
    return found


def load_rules(
    workspace: str | Path,
    skill_allowed_tools: str | Sequence[str] | None = None,
    extra_allow: Iterable[str] = (),
    *,
    config_permissions: Mapping[str, Sequence[str]] | None = None,
    user_dir: Path | None = None,
    managed: Path = MANAGED_SETTINGS,
) -> PermissionRules:
    """Merge every source (see the module docstring) into one :class:`PermissionRules`.

    Args:
        workspace: The run's workspace; its ``.claude/`` holds the project settings.
        skill_allowed_tools: The skill's ``allowed-tools`` (list or string), as allow rules.
        extra_allow: ``--allow-tools`` rules.
        config_permissions: ``Settings.permissions`` (sagaflow's config.yaml).
        user_dir: Claude Code's configuration directory (default :func:`claude_dir`).
        managed: The managed settings file.

    Raises:
        ConfigError: a settings file is not valid JSON, or a rule is malformed (naming the
            file or source).
    """
    project = Path(workspace) / ".claude"
    user = user_dir or claude_dir()
    sources: list[tuple[str, Mapping[str, Sequence[str]]]] = [
        (str(path), settings_permissions(path))
        for path in (managed, user / "settings.json", project / "settings.json",
                     project / "settings.local.json")
    ]
    if config_permissions:
        sources.append(("config.yaml 'permissions'", _lists(config_permissions, "config.yaml")))
    sources.append(("the skill's allowed-tools", {"allow": split_tool_list(skill_allowed_tools)}))
    sources.append(("--allow-tools", {"allow": [r for v in extra_allow for r in split_tool_list(v)]}))
    merged: dict[str, list[str]] = {key: [] for key in LISTS}
    for source, lists in sources:
        for key in LISTS:
            for text in lists.get(key, ()):
                rule = parse_rule(text, source=source).text
                if rule not in merged[key]:
                    merged[key].append(rule)
    return PermissionRules(*(tuple(merged[key]) for key in LISTS))
