"""``sagaflow lint``, the lint step of ``launch`` and the lint lines of ``doctor``.

The file-level rules live in :mod:`sagaflow.skills.lint`; this module adds what
needs the skills imported: the workflow-sandbox verdict of the skill's workflows
(:mod:`sagaflow.skills.validation`, cached per content) and the activity names the
workers register (sagaflow's built-ins and every skill's own).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.errors import SkillLoadError, UnknownSkillError
from sagaflow.paths import Home
from sagaflow.skills.discovery import LoadedSkills, SkillSource, discover_all, load_skills
from sagaflow.skills.lint import ERROR, WARNING, Finding, static_findings
from sagaflow.skills.lint.findings import error as error_finding


@dataclass
class SkillReport:
    """The findings for one skill directory.

    Attributes:
        skill: The skill's name (its directory's name when it did not register).
        dir: The skill directory (absolute).
        findings: Sorted by file and line; ``file`` is relative to :attr:`dir`.
    """

    skill: str
    dir: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.level == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == WARNING for f in self.findings)

    def lines(self) -> list[str]:
        """One ``file:line: level: message (rule)`` line per finding; files are shown
        relative to the working directory when under it, else absolute."""
        return [f.line_text(shown_path(self.dir / f.file)) for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {"skill": self.skill, "dir": str(self.dir), "errors": self.errors,
                "warnings": self.warnings,
                "findings": [{**f.to_dict(), "path": str(self.dir / f.file)}
                             for f in self.findings]}


def shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def passthrough() -> frozenset[str]:
    """The modules the worker's sandbox passes through (Temporal's defaults and sagaflow)."""
    from sagaflow.skills.validation import restrictions

    return frozenset(restrictions().passthrough_modules)


def registered_names(loaded: LoadedSkills) -> set[str]:
    """Every activity name a worker serving ``loaded``'s skills registers."""
    from sagaflow._engine.activity_check import builtin_names, own_names

    return builtin_names() | own_names(loaded.registry)


_AT = re.compile(r" at ([^\s:]+):(\d+)")


def load_finding(skill_dir: Path, problem: str) -> Finding:
    """A skill's load failure as a finding at the file and line its message names
    (:func:`sagaflow.skills.validation.sandbox_problem` and discovery write
    ``at FILE:LINE``), else at ``__init__.py``: rule ``sandbox`` when the workflow
    sandbox refused it, ``load`` otherwise."""
    rule = "sandbox" if "workflow sandbox" in problem else "load"
    match = _AT.search(problem)
    file, line = "__init__.py", 1
    if match is not None:
        hits = [p for p in sorted(skill_dir.rglob(match.group(1))) if "__pycache__" not in p.parts]
        file = str(hits[0].relative_to(skill_dir)) if hits else match.group(1)
        line = int(match.group(2))
    return error_finding(file, line, problem.rstrip("."), rule)


def report_for(source: SkillSource, loaded: LoadedSkills, registered: set[str] | None,
               skills: set[str] | None = None) -> SkillReport:
    """Lint one skill directory whose load outcome ``loaded`` holds.

    Args:
        registered: Every activity name the workers register (None: not checked).
        skills: Every skill name on the search path (None: ``child`` calls not checked).
    """
    infos = [i for i in loaded.infos if i.dir == source.dir and i.status != "shadowed"]
    name = next((i.name for i in infos if i.status == "ok"), source.dir.name)
    findings = static_findings(source.dir, source.kind, source.module,
                               registered=registered, passthrough=passthrough(),
                               skills=skills)
    # a SKILL.md's load errors are its frontmatter findings; a syntax error is one already
    if source.kind == "python" and not any(f.rule == "syntax" for f in findings):
        findings = [*(load_finding(source.dir, i.error or "failed to load")
                      for i in infos if i.status == "error"), *findings]
    return SkillReport(name, source.dir, findings)


def _target(name: str, active: Sequence[SkillSource]) -> SkillSource:
    """The skill a ``sagaflow lint`` argument means: a directory path, or a name."""
    path = Path(name).expanduser()
    if (os.sep in name or name in (".", "..")) or (path.is_dir() and not any(
            s.dir.name == name for s in active)):
        if (path / "__init__.py").is_file():
            return SkillSource(path.resolve(), "path", "python")
        if (path / "SKILL.md").is_file():
            return SkillSource(path.resolve(), "path", "skillmd")
        raise UnknownSkillError(f"{name} is not a skill directory (no __init__.py or "
                                "SKILL.md in it); give a skill's directory or its name.")
    for source in active:
        if name in (source.dir.name, source.module.rpartition(".")[2]):
            return source
    import difflib

    names = sorted(s.dir.name for s in active)
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    raise UnknownSkillError(f"Unknown skill {name!r}; {hint}give a skill's name ('sagaflow "
                            "skills' lists them) or the path of its directory.")


def lint_targets(names: Sequence[str], cwd: Path | None = None) -> list[SkillReport]:
    """Lint the named skills (names or directory paths); none named: every active skill.

    Raises:
        UnknownSkillError: a name no discovery finds and no directory holds a skill.
    """
    active = discover_all(cwd).active
    targets = [_target(n, active) for n in names] or list(active)
    chosen = {t.module: t for t in targets}
    sources = [chosen.pop(s.module, s) for s in active] + list(chosen.values())
    loaded = load_skills(cwd, found=(sources, []))
    registered = registered_names(loaded)
    skills = set(loaded.registry.names())
    return [report_for(t, loaded, registered, skills) for t in targets]


def launch_gate(home: Home, build: str, loaded: LoadedSkills, skill: str,
                notice: Callable[[str], None]) -> None:
    """Lint ``skill`` of build ``build``: print its findings, refuse the launch on an error,
    and remember a pass (:mod:`sagaflow.runs.lintcache`: launch skips the skills a build
    has passed before). Activity names are not linted here (launch's own check has just
    refused unknown ones).

    Raises:
        SkillLoadError: the skill has lint errors (printed through ``notice`` first).
    """
    from sagaflow.runs import lintcache

    skill_dir = loaded.dir_of(skill)
    source = next((s for s in loaded.sources if skill_dir is not None and s.dir == skill_dir), None)
    if source is None:
        return
    report = report_for(source, loaded, None)
    for line in report.lines():
        notice(line)
    if report.errors:
        raise SkillLoadError(
            f"Skill {skill} has {report.errors} lint error{'s' if report.errors > 1 else ''} "
            "(listed above), each of which would fail its runs; fix them, or launch with "
            "--no-lint to run it anyway.")
    lintcache.record(home, build, skill, report.warnings)
