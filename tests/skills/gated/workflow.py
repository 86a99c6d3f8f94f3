import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import EmitFindingInput, WriteArtifactInput
    from sagaflow.durable.approval import ApprovalGate
    from sagaflow.durable.retry_policies import HAIKU_POLICY


@dataclass(frozen=True)
class GatedInput:
    run_id: str
    run_dir: str
    inbox_path: str
    timeout: float = 3600.0
    default: str = "reject"


def _write(path: str, content: str):
    return workflow.execute_activity(
        "write_artifact", WriteArtifactInput(path=path, content=content),
        start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
    )


@workflow.defn(name="GatedWorkflow")
class GatedWorkflow:
    @workflow.run
    async def run(self, inp: GatedInput) -> str:
        await _write(f"{inp.run_dir}/draft.txt", "a draft worth publishing")
        try:
            decision = await ApprovalGate(
                timeout_seconds=inp.timeout, default=inp.default
            ).wait("publish", prompt="Publish?")
        except (asyncio.CancelledError, CancelledError):
            # compensation: undo the draft, then let the cancellation through
            await _write(f"{inp.run_dir}/compensated.txt", "draft withdrawn")
            raise
        if not decision.approved:
            who = "its timeout" if decision.timed_out else decision.by
            raise ApplicationError(
                f"publish rejected by {who}: {decision.reason}", non_retryable=True
            )
        who = "timeout default" if decision.timed_out else decision.by
        note = f" ({decision.comment})" if decision.comment else ""
        summary = f"published: approved by {who}{note}"
        await workflow.execute_activity(
            "emit_finding",
            EmitFindingInput(
                inbox_path=inp.inbox_path, run_id=inp.run_id, skill="gated",
                status="DONE", summary=summary,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
            ),
            start_to_close_timeout=timedelta(seconds=10), retry_policy=HAIKU_POLICY,
        )
        return summary
