"""Activity names a skill calls vs the names sagaflow's workers register.

The calls are found by :func:`sagaflow.skills.activity_names.called_activities` (the
same ``ast`` scan ``launch`` refuses unknown names with); the registered names are
given by the caller (sagaflow's built-ins, every skill's own activities), so this
module imports nothing heavy. A misspelt name ("spawn_subagnet") fails its run at
that step; the finding suggests the close matches.
"""

from __future__ import annotations

from pathlib import Path

from sagaflow.skills.activity_names import called_activities, close_matches
from sagaflow.skills.lint.findings import Finding, error


def check(skill_dir: Path, registered: set[str]) -> list[Finding]:
    """One error per activity name the skill calls that is not in ``registered``.

    Args:
        skill_dir: The skill directory (every ``.py`` file under it is read).
        registered: Every activity name a worker serving this skill registers.
    """
    findings = []
    for name, (file, line) in sorted(called_activities(skill_dir).items()):
        if name in registered:
            continue
        findings.append(error(
            file, line,
            f"no sagaflow worker registers activity {name!r} ({close_matches(name, registered)}), so "
            "the run fails at this step; fix the name or list the activity in the skill's "
            "SkillSpec(activities=[...])", "activity-name"))
    return findings
