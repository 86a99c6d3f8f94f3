"""Worker interceptors that give every skill the same guarantees.

* Every run ends in the inbox: a run that fails gets a FAILED entry with its
  reason; a run that succeeds without calling ``emit_finding`` gets a DONE entry
  with its result. Both are written by a local activity, idempotently.
* Model calls are noticed dead within seconds: the heartbeat timeout of
  ``spawn_subagent`` is capped (it heartbeats from a background task), so a
  SIGKILLed worker's call is retried quickly instead of at the skill's timeout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from sagaflow.runtime.failures import failure_reason

FINALIZE_ACTIVITY = "sagaflow_finalize_run"
MODEL_ACTIVITIES = frozenset({"spawn_subagent"})
SUMMARY_LIMIT = 4000


@dataclass(frozen=True)
class FinalizeInput:
    run_id: str
    skill: str
    status: str
    summary: str
    timestamp_iso: str


@activity.defn(name=FINALIZE_ACTIVITY)
async def finalize_run(inp: FinalizeInput) -> bool:
    """Write the framework's DONE/FAILED inbox entry unless one exists."""
    import asyncio

    from sagaflow import inbox
    from sagaflow.durable.activities import notify
    from sagaflow.paths import Home

    path = Home.current().inbox
    if inp.status == "DONE" and await asyncio.to_thread(inbox.has_entry, path, inp.run_id):
        return False
    entry = inbox.Entry(
        run_id=inp.run_id, status=inp.status, skill=inp.skill,
        summary=inp.summary, timestamp=inp.timestamp_iso,
    )
    written = await asyncio.to_thread(inbox.append, path, entry)
    if written:
        notify(f"sagaflow: {inp.skill} {inp.status}", inp.summary)
    return written


def _summarize(result: Any) -> str:
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT] + " …"


class SagaflowInterceptor(Interceptor):
    """Installs the inbound/outbound workflow interceptors described above."""

    def __init__(self, skills_by_workflow: dict[str, str], heartbeat_cap: float) -> None:
        self.skills_by_workflow = dict(skills_by_workflow)
        self.heartbeat_cap = timedelta(seconds=heartbeat_cap)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        skills = self.skills_by_workflow
        cap = self.heartbeat_cap

        class _Outbound(WorkflowOutboundInterceptor):
            emitted = False

            def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
                if input.activity in MODEL_ACTIVITIES and (
                    input.heartbeat_timeout is None or input.heartbeat_timeout > cap
                ):
                    input.heartbeat_timeout = cap
                if input.activity == "emit_finding":
                    self.emitted = True
                return super().start_activity(input)

        class _Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                self._out = _Outbound(outbound)
                super().init(self._out)

            async def _record(self, status: str, summary: str) -> None:
                info = workflow.info()
                await workflow.execute_local_activity(
                    FINALIZE_ACTIVITY,
                    FinalizeInput(
                        run_id=info.workflow_id,
                        skill=skills.get(info.workflow_type, info.workflow_type),
                        status=status,
                        summary=summary,
                        timestamp_iso=workflow.now().isoformat(timespec="seconds"),
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_attempts=10),
                )

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                try:
                    result = await super().execute_workflow(input)
                except workflow.ContinueAsNewError:
                    raise
                except Exception as exc:
                    await self._record("FAILED", failure_reason(exc))
                    raise
                if not self._out.emitted:
                    await self._record("DONE", _summarize(result))
                return result

        return _Inbound
