"""Prompt files: ``<skill>/prompts/<name>.md`` with ``$name`` substitution."""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sagaflow.errors import PromptError


def prompt_path(module_file: str, name: str) -> Path:
    """Where ``load_prompt(module_file, name)`` reads from."""
    base = Path(module_file).resolve().parent / "prompts"
    return base / (name if name.endswith(".md") else f"{name}.md")


def render(template: str, substitutions: Mapping[str, Any], source: str = "prompt") -> str:
    """Substitute ``$name`` / ``${name}`` (``$$`` is a literal ``$``).

    Raises:
        PromptError: naming the first variable with no value.
    """
    try:
        return string.Template(template).substitute({k: str(v) for k, v in substitutions.items()})
    except KeyError as exc:
        var = exc.args[0]
        given = ", ".join(sorted(substitutions)) or "none"
        raise PromptError(
            f"{source} uses ${var} but no value for {var!r} was given (given: {given}); "
            f"add it to substitutions or write $$ for a literal dollar sign."
        ) from None
    except ValueError as exc:
        raise PromptError(
            f"{source} has a malformed placeholder ({exc}); write $$ for a literal dollar sign."
        ) from None


def load_prompt(
    module_file: str, name: str, substitutions: Mapping[str, Any] | None = None
) -> str:
    """Load ``prompts/<name>.md`` next to ``module_file``.

    Args:
        module_file: Usually ``__file__`` of the skill's module.
        name: Prompt name without ``.md`` (``"greeter.user"``).
        substitutions: Values for ``$name`` placeholders. When None, the text is
            returned as written.

    Raises:
        PromptError: if the file is missing or a placeholder has no value.
    """
    path = prompt_path(module_file, name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"Prompt file {path} does not exist; create it or fix the name.") from None
    except OSError as exc:
        raise PromptError(f"Cannot read prompt {path}: {exc.strerror}.") from None
    if substitutions is None:
        return text
    return render(text, substitutions, source=f"Prompt {path.name}")


def claude_skill_prompt_path(skill_name: str, name: str) -> Path:
    """Where ``load_claude_skill_prompt(skill_name, name)`` reads from.

    ``<dir>/<skill_name>/prompts/<name>.md`` for the first skills directory that has it:
    ``$CLAUDE_SKILLS_DIR`` (sagaflow 0.10's override), then the skill search path
    (project ``.claude/skills``, ``~/.claude/skills``, ``$SAGAFLOW_SKILLS_PATH``,
    bundled). When none has it, the path under the first directory (for the message).
    """
    import os

    from sagaflow.skills.discovery import search_roots

    file = Path(skill_name) / "prompts" / (name if name.endswith(".md") else f"{name}.md")
    roots = [Path(os.environ["CLAUDE_SKILLS_DIR"])] if os.environ.get("CLAUDE_SKILLS_DIR") else []
    roots += [root for _, root in search_roots()]
    for root in roots:
        if (root / file).is_file():
            return root / file
    return roots[0] / file


def load_claude_skill_prompt(
    skill_name: str, name: str, *, substitutions: Mapping[str, Any] | None = None
) -> str:
    """sagaflow 0.10's prompt loader: ``<skill_name>/prompts/<name>.md`` found by skill name.

    Args:
        skill_name: The skill's directory name (``"deep-qa"``).
        name: Prompt name without ``.md``.
        substitutions: Values for ``$name`` placeholders; None or empty returns the text
            as written (as 0.10 did).

    Raises:
        PromptError: the file is in no skills directory (:func:`claude_skill_prompt_path`
            lists the order), or a placeholder has no value.
    """
    path = claude_skill_prompt_path(skill_name, name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(
            f"Prompt {skill_name}/prompts/{Path(path).name} is in no skills directory (looked "
            f"first in {path.parents[2]}); create it or fix the skill or prompt name."
        ) from None
    return render(text, substitutions, source=f"Prompt {path.name}") if substitutions else text
