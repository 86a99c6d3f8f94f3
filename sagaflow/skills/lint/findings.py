"""One lint finding, how it prints, and the comment that silences one.

A finding prints as one line, ``file:line: level: message (rule)``, the shape
compilers and linters use, so editors and terminals make it clickable.

A line ending with ``# sagaflow-lint: ignore`` silences every finding on it;
``# sagaflow-lint: ignore[clock,io]`` only those rules (for the rare call the
static check cannot see is safe).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ERROR = "error"
WARNING = "warning"
_IGNORE = re.compile(r"#\s*sagaflow-lint:\s*ignore(?:\[([\w\s,-]+)\])?")


@dataclass(frozen=True)
class Finding:
    """One problem lint found.

    Attributes:
        file: Path relative to the skill directory (``workflow.py``, ``prompts/user.md``).
        line: 1-based line number (1 when the problem belongs to the whole file).
        level: :data:`ERROR` (the run or the launch would fail) or :data:`WARNING`.
        message: One sentence: what is wrong and the fix.
        rule: The rule's id (``clock``, ``activity-name``, ``prompt-variable``...).
    """

    file: str
    line: int
    level: str
    message: str
    rule: str

    def line_text(self, shown_file: str | None = None) -> str:
        """``file:line: level: message (rule)``; ``shown_file`` replaces :attr:`file`."""
        return f"{shown_file or self.file}:{self.line}: {self.level}: {self.message} ({self.rule})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def error(file: str, line: int, message: str, rule: str) -> Finding:
    return Finding(file, max(line, 1), ERROR, message, rule)


def warning(file: str, line: int, message: str, rule: str) -> Finding:
    return Finding(file, max(line, 1), WARNING, message, rule)


def silenced(source_line: str, rule: str) -> bool:
    """Whether ``source_line`` carries an ignore comment covering ``rule``."""
    match = _IGNORE.search(source_line)
    if match is None:
        return False
    rules = match.group(1)
    return rules is None or rule in {r.strip() for r in rules.split(",")}


def sort_key(finding: Finding) -> tuple[str, int, str, str]:
    return (finding.file, finding.line, finding.rule, finding.message)


def drop_silenced(skill_dir: Path, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` without those whose line carries an ignore comment for their rule."""
    texts: dict[str, list[str]] = {}
    kept = []
    for finding in findings:
        if finding.file not in texts:
            try:
                texts[finding.file] = (skill_dir / finding.file).read_text(
                    encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                texts[finding.file] = []
        lines = texts[finding.file]
        line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        if not silenced(line, finding.rule):
            kept.append(finding)
    return kept
