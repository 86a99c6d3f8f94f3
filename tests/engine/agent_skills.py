"""SKILL.md test skills written into a test's project (``<root>/.claude/skills/``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml


def write_skill(root: Path, name: str, body: str, *, turns: list[Any] | None = None,
                frontmatter: str = "") -> Path:
    """A SKILL.md skill named ``name`` under ``root/.claude/skills`` (with scripted turns)."""
    skill = root / ".claude" / "skills" / name
    skill.mkdir(parents=True, exist_ok=True)
    head = f"name: {name}\ndescription: test skill {name}\n{frontmatter}"
    (skill / "SKILL.md").write_text(f"---\n{head}---\n{textwrap.dedent(body)}", encoding="utf-8")
    if turns is not None:
        (skill / "replies.yaml").write_text(yaml.safe_dump({"turns": turns}), encoding="utf-8")
    return skill


REPORT_TURNS: list[Any] = [
    {"text": "Looking for notes.", "tools": [{"Glob": {"pattern": "notes/*.md"}}]},
    {"tools": [{"Read": {"file_path": "notes/a.md"}}, {"Grep": {"pattern": "TODO"}}]},
    {"tools": [{"TodoWrite": {"todos": [{"content": "write report", "status": "completed"}]}}]},
    {"tools": [{"Write": {"file_path": "report.md", "content": "# Report\n$last\n"}}]},
    {"text": "Done: report.md summarises 2 notes, 1 TODO."},
]
