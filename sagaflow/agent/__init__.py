"""SKILL.md skills run as durable agent loops: the tools they call and who may call them.

Kept free of imports so that importing :mod:`sagaflow.agent.tools` or
:mod:`sagaflow.agent.permissions` costs only what those modules need.
"""
