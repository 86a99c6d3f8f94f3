"""The workflow side of the plugin hooks: run events out, the run's identity to its steps.

Called from the workflow interceptor (:mod:`sagaflow._engine.interceptors`) only on a
worker with plugins (``_Inbound.hooks_on``); without plugins none of this runs and
nothing about a run changes.

* :func:`emit_run` hands a :class:`~sagaflow.plugins.RunEvent` to the worker's
  :class:`~sagaflow._engine.hooks.Hooks` through the extern function
  :data:`~sagaflow._engine.hooks.EXTERN_RUN_EVENT`, only while not replaying: the
  hook runs outside workflow code and no command is added to the run.
* :func:`with_run_header` puts the run id and skill into each activity's headers
  (``sagaflow-run``), so the activity side names the right run and skill for a
  SKILL.md skill's steps (one workflow type, many skills) and a Task sub-agent's.
  Headers are not part of what replay compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter

from sagaflow._engine.hooks import EXTERN_RUN_EVENT
from sagaflow.plugins import RunEvent

if TYPE_CHECKING:
    from sagaflow._engine.control import RunControl

#: the activity header carrying ``{"run_id": ..., "skill": ...}``
RUN_HEADER = "sagaflow-run"


def run_id() -> str:
    """The sagaflow run this workflow serves: its parent's for a Task sub-agent (a
    scheduled run's parent is the schedule-firing workflow, not a run)."""
    from sagaflow.agent import AGENT_WORKFLOW

    info = workflow.info()
    if info.workflow_type == AGENT_WORKFLOW and info.parent is not None:
        return info.parent.workflow_id
    return info.workflow_id


def with_run_header(headers: Mapping[str, Payload], skill: str) -> Mapping[str, Payload]:
    """``headers`` plus :data:`RUN_HEADER` naming this run and ``skill``."""
    payload = PayloadConverter.default.to_payloads([{"run_id": run_id(), "skill": skill}])[0]
    return {**headers, RUN_HEADER: payload}


def identity(headers: Mapping[str, Payload], workflow_id: str, skill: str) -> tuple[str, str]:
    """Activity side: ``(run id, skill)`` from :data:`RUN_HEADER`, else the given ones."""
    payload = headers.get(RUN_HEADER)
    if payload is not None:
        try:
            found = PayloadConverter.default.from_payloads([payload])[0]
            return str(found["run_id"]), str(found["skill"])
        except (KeyError, TypeError, ValueError):
            pass
    return workflow_id, skill


def emit_run(hook: str, skill: str, status: str, control: RunControl | None,
             error: str = "") -> None:
    """Hand ``hook``'s :class:`RunEvent` to the worker's plugins (not while replaying).

    A continued execution (continue-as-new) is the same run: no ``before_run`` for it,
    and none of ``after_run`` for the execution that continues (it does not call this).
    """
    if workflow.unsafe.is_replaying():
        return
    info = workflow.info()
    if hook == "before_run" and info.continued_run_id:
        return
    extern = workflow.extern_functions().get(EXTERN_RUN_EVENT)
    if extern is None:  # a Replayer or a worker built without plugins
        return
    started = info.workflow_start_time
    tokens = control.tokens if control is not None else {}
    event = RunEvent(
        run_id=run_id(), skill=skill, workflow_id=info.workflow_id,
        temporal_run_id=info.run_id, workflow_type=info.workflow_type, build="",
        status=status, started_at=started.isoformat(timespec="milliseconds"),
        duration_seconds=0.0 if hook == "before_run"
        else max(0.0, (workflow.now() - started).total_seconds()),
        model_calls=control.calls if control is not None else 0,
        cost_usd=round(control.spent_usd, 6) if control is not None else 0.0,
        input_tokens=tokens.get("input_tokens", 0),
        output_tokens=tokens.get("output_tokens", 0),
        cache_creation_input_tokens=tokens.get("cache_creation_input_tokens", 0),
        cache_read_input_tokens=tokens.get("cache_read_input_tokens", 0),
        error=error,
    )
    extern(hook, event)
