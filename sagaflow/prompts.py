"""Seed API: ``from sagaflow.prompts import load_prompt`` (lives in :mod:`sagaflow.skills.prompts`)."""

from sagaflow.skills.prompts import load_prompt, prompt_path, render

__all__ = ["load_prompt", "prompt_path", "render"]
