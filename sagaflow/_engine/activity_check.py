"""Activity names a skill calls that no sagaflow worker registers.

Checked at launch, statically (:mod:`sagaflow.skills.activity_names`), so a run
that would wait forever on an activity nobody serves is refused with one line
naming the skill, the name and the close matches; and at run time by the
workflow interceptor (:meth:`Registered.check`), which fails such a call at
once (non-retryable) instead of letting it be retried forever.
"""

from __future__ import annotations

from collections.abc import Iterable

from sagaflow._engine.meta import EMIT_FINDING, SPAWN_SUBAGENT, WRITE_ARTIFACT
from sagaflow.errors import SkillLoadError
from sagaflow.skills.activity_names import called_activities, close_matches
from sagaflow.skills.discovery import LoadedSkills
from sagaflow.skills.registry import SkillSpec

#: the built-ins skills call by name most (the full list needs the activity module)
COMMON = frozenset({WRITE_ARTIFACT, SPAWN_SUBAGENT, EMIT_FINDING})


def own_names(specs: Iterable[SkillSpec]) -> set[str]:
    """The activity names the given skills register themselves."""
    from temporalio import activity

    names = set()
    for spec in specs:
        for fn in spec.activities:
            defn = activity._Definition.from_callable(fn)
            if defn is not None and defn.name:
                names.add(defn.name)
    return names


def builtin_names() -> set[str]:
    """Every activity sagaflow's plugin registers on every worker."""
    from sagaflow._engine.activities import BUILTIN_ACTIVITIES
    from sagaflow._engine.scheduled import PREPARE_ACTIVITY

    return {*BUILTIN_ACTIVITIES, PREPARE_ACTIVITY}


def unregistered_message(skill: str, name: str, where: str, known: Iterable[str]) -> str:
    return (f"Skill {skill} calls activity {name!r} ({where}), which no sagaflow worker "
            f"registers ({close_matches(name, known)}); fix the name or list the activity "
            "in the skill's SkillSpec(activities=[...]).")


def check_launch(loaded: LoadedSkills, skill: str, full: LoadedSkills | None = None) -> None:
    """Refuse a launch whose skill calls an activity name no worker registers.

    Costs an ``ast`` pass over the skill's files; the built-in list and the other
    skills are loaded only when a name is not among the common built-ins and the
    skill's own activities.

    Args:
        loaded: The skills loaded for the launch (maybe only this one).
        full: Every skill, when the caller already has them.

    Raises:
        SkillLoadError: one line per the first unregistered name.
    """
    spec, skill_dir = loaded.registry.get(skill), loaded.dir_of(skill)
    if spec is None or skill_dir is None:
        return
    calls = called_activities(skill_dir)
    unknown = set(calls) - COMMON - own_names([spec])
    if not unknown:
        return
    unknown -= builtin_names()
    if not unknown:
        return
    if full is None:
        from sagaflow.skills.discovery import load_skills

        full = load_skills()
    known = builtin_names() | own_names(full.registry)
    for name in sorted(unknown - known, key=lambda n: calls[n]):
        file, line = calls[name]
        raise SkillLoadError(unregistered_message(skill, name, f"{file}:{line}", known),
                             retryable=False)
