"""``sagaflow lint``: what would fail a skill's runs, found before it runs.

One module per rule family, each reading files only (nothing is imported or run):

* :mod:`~sagaflow.skills.lint.determinism` — clocks, randomness, I/O, threads and
  imports the sandbox would reload, in workflow code;
* :mod:`~sagaflow.skills.lint.activities` — activity names no worker registers;
* :mod:`~sagaflow.skills.lint.children` — ``child("SKILL")`` runs of skills that do not exist;
* :mod:`~sagaflow.skills.lint.helpers` — ``sagaflow.workflow`` helper calls that fail at
  the call: unknown options, durations of the wrong type, ``parallel([])``, undeclared
  ``route`` keys;
* :mod:`~sagaflow.skills.lint.prompts` — prompt variables used vs provided, missing
  prompt files;
* :mod:`~sagaflow.skills.lint.skillmd` — SKILL.md frontmatter and unsubstituted ``$name``.

The checks that need the skill imported (Temporal's sandbox validation) and the
registered activity names are gathered by :mod:`sagaflow.runs.lint`, which calls
:func:`static_findings`.
"""

from __future__ import annotations

from pathlib import Path

from sagaflow.skills.lint.findings import ERROR, WARNING, Finding, drop_silenced, sort_key

__all__ = ["ERROR", "WARNING", "Finding", "static_findings"]


def static_findings(skill_dir: Path, kind: str, package: str, *, registered: set[str] | None,
                    passthrough: frozenset[str],
                    skills: set[str] | None = None) -> list[Finding]:
    """Every file-level finding for one skill directory, sorted by file and line.

    Args:
        skill_dir: The skill directory.
        kind: ``python`` or ``skillmd``.
        package: Its import name (``skills.hello_world``).
        registered: Every activity name the workers register (None: not checked).
        passthrough: Modules the workflow sandbox passes through.
        skills: Every skill name on the search path, for ``child("SKILL")`` calls (None:
            not checked).
    """
    from sagaflow.skills.lint import (
        activities,
        children,
        determinism,
        helpers,
        prompts,
        pyscan,
        skillmd,
    )

    if kind != "python":
        findings = skillmd.check(skill_dir)
    else:
        modules, findings = pyscan.parse_skill(skill_dir, package)
        findings += determinism.check(modules, passthrough)
        findings += prompts.check(skill_dir, modules)
        findings += helpers.check(modules)
        if registered is not None:
            findings += activities.check(skill_dir, registered)
        if skills is not None:
            findings += children.check(modules, skills)
    return sorted(drop_silenced(skill_dir, dict.fromkeys(findings)), key=sort_key)
