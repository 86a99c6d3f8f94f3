"""``TASK_QUEUE`` for skills written for sagaflow 0.10 (``from sagaflow.temporal_client import
TASK_QUEUE``), which pass it as ``task_queue=`` to child workflows and activities.

It is the configured task queue, the one the worker daemon serves: ``temporal.task_queue``
in ``config.yaml`` or ``SAGAFLOW_TASK_QUEUE`` (default ``sagaflow``), read at each import
(the worker's sandbox re-imports a skill's workflow module for every run, so a run sees the
worker's configuration). A run launched on a pool (``--pool``) that sends work to
``TASK_QUEUE`` sends it to the default workers, as in sagaflow 0.10 where it was one fixed
queue; use :func:`sagaflow.workflow.pool` for a pool's queue.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TASK_QUEUE", "task_queue"]  # noqa: F822 - TASK_QUEUE is computed per import (__getattr__)


def task_queue() -> str:
    """The configured task queue (see the module docstring)."""
    from sagaflow.config import load_settings

    return load_settings().task_queue


def __getattr__(name: str) -> Any:
    if name == "TASK_QUEUE":
        return task_queue()
    raise AttributeError(f"module 'sagaflow.temporal_client' has no attribute {name!r}")
