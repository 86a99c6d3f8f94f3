"""SKILL.md skills for CLI tests, written into the sandbox user's ~/.claude/skills."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml
from sandbox import Sandbox


def user_skill(sf: Sandbox, name: str, body: str, *, frontmatter: str = "",
               turns: list[Any] | None = None) -> Path:
    """A SKILL.md skill (with scripted ``turns`` for ``--transport scripted``, if given)."""
    skill = sf.user_skills / name
    skill.mkdir(parents=True, exist_ok=True)
    head = f"name: {name}\ndescription: {name} test skill\n{frontmatter}"
    (skill / "SKILL.md").write_text(f"---\n{head}---\n{textwrap.dedent(body)}", encoding="utf-8")
    if turns is not None:
        (skill / "replies.yaml").write_text(yaml.safe_dump({"turns": turns}), encoding="utf-8")
    return skill


def notes(root: Path) -> None:
    (root / "notes").mkdir(exist_ok=True)
    (root / "notes" / "a.md").write_text("alpha\nTODO: beta\n", encoding="utf-8")
    (root / "notes" / "b.md").write_text("gamma\n", encoding="utf-8")


#: a report skill's turns: glob, read + grep, write, answer
REPORT_TURNS: list[dict[str, Any]] = [
    {"text": "Looking for notes.", "tools": [{"Glob": {"pattern": "notes/*.md"}}]},
    {"tools": [{"Read": {"file_path": "notes/a.md"}}, {"Grep": {"pattern": "TODO"}}]},
    {"tools": [{"Write": {"file_path": "report.md", "content": "# Report\n$last\n"}}]},
    {"text": "Report written to report.md: 2 notes, 1 TODO."},
]
