"""Seed API: ``from sagaflow.prompts import load_prompt`` (lives in :mod:`sagaflow.skills.prompts`),
and sagaflow 0.10's ``load_claude_skill_prompt`` (a prompt found by skill name)."""

from sagaflow.skills.prompts import load_claude_skill_prompt, load_prompt, prompt_path, render

__all__ = ["load_claude_skill_prompt", "load_prompt", "prompt_path", "render"]
