"""``TASK_QUEUE`` for skills written for sagaflow 0.10 (``from sagaflow.temporal_client import
TASK_QUEUE``), which pass it as ``task_queue=`` to child workflows and activities.

Its value is read when it is imported: inside a workflow (the usual place: a skill's
workflow module imported by the worker's sandbox) it is the task queue of the run being
executed, so a child stays on the queue (and pool) of its parent; anywhere else it is the
configured task queue (``temporal.task_queue`` in ``config.yaml`` or
``SAGAFLOW_TASK_QUEUE``, default ``sagaflow``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TASK_QUEUE", "task_queue"]  # noqa: F822 - TASK_QUEUE is computed per import (__getattr__)


def task_queue() -> str:
    """The current run's task queue inside a workflow, else the configured one."""
    from temporalio import workflow

    if workflow.in_workflow():
        return workflow.info().task_queue
    from sagaflow.config import load_settings

    return load_settings().task_queue


def __getattr__(name: str) -> Any:
    # not cached: the sandbox re-imports a skill's workflow module for every run, and
    # each run must see its own queue
    if name == "TASK_QUEUE":
        return task_queue()
    raise AttributeError(f"module 'sagaflow.temporal_client' has no attribute {name!r}")
