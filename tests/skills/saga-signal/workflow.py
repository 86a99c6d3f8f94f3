"""Book, wait for a manager's signal (sayiir's wait_for_signal shape), undo on failure."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from sagaflow.durable.activities import WriteArtifactInput
    from sagaflow.durable.approval import Saga, wait_for_signal


@dataclass(frozen=True)
class SagaSignalInput:
    run_dir: str
    wait: float = 3600.0


def _write(path: str, content: str):
    return workflow.execute_activity(
        "write_artifact", WriteArtifactInput(path=path, content=content),
        start_to_close_timeout=timedelta(seconds=10),
    )


@workflow.defn(name="SagaSignalWorkflow")
class SagaSignalWorkflow:
    @workflow.run
    async def run(self, inp: SagaSignalInput) -> str:
        async with Saga() as saga:
            await _write(f"{inp.run_dir}/booked.txt", "booked")
            saga.add(_write, f"{inp.run_dir}/unbooked.txt", "booking undone")
            data = await wait_for_signal("manager_approval", timeout=inp.wait)
            if not data.get("approved"):
                raise ApplicationError(
                    f"manager said no: {data.get('comments', '')}", non_retryable=True
                )
            return f"approved: {data.get('comments', '')}"
