"""Seed API: ``SkillRegistry`` and ``SkillSpec`` (they live in :mod:`sagaflow.skills.registry`)."""

from sagaflow.skills.registry import SkillRegistry, SkillSpec

__all__ = ["SkillRegistry", "SkillSpec"]
