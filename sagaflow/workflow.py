"""The public API for skill workflow code: import everything a workflow needs from here.

Inside a ``@workflow.defn`` class, import it through the sandbox pass-through::

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from sagaflow.workflow import (
            ApprovalGate, Saga, SpawnSubagentInput, WriteArtifactInput, wait_for_signal,
        )

What is here:

* activities every worker registers, by name: ``write_artifact``, ``spawn_subagent``
  (one model call; the skill receives its parsed output, a ``dict[str, str]``, while
  history keeps the output with its tokens and cost), ``emit_finding`` (an inbox
  entry), with their input dataclasses; the worker's plugin supplies them whether or
  not a ``SkillSpec`` lists them;
* ``ApprovalGate`` / ``Decision`` — a human decision, with timeout and default;
* ``wait_for_signal`` — the oldest buffered signal of a name (timeout in seconds);
* ``Saga`` — compensations run newest first on failure or cancellation;
* ``pool`` — the task queue of a worker pool, for ``execute_activity(task_queue=...)``;
* ``HAIKU_POLICY`` / ``SONNET_POLICY`` / ``OPUS_POLICY`` — retry policies per model tier.

Everything else in sagaflow is private and may move; the seed paths
(``sagaflow.durable.activities``, ``sagaflow.durable.retry_policies``) stay as re-exports.
"""

from sagaflow._engine.activities import (
    EmitFindingInput,
    SpawnSubagentInput,
    WriteArtifactInput,
    emit_finding,
    spawn_subagent,
    write_artifact,
)
from sagaflow._engine.control_types import Decision
from sagaflow._engine.helpers import ApprovalGate, Saga, pool, wait_for_signal
from sagaflow._engine.retry_policies import HAIKU_POLICY, OPUS_POLICY, SONNET_POLICY

__all__ = [
    "HAIKU_POLICY",
    "OPUS_POLICY",
    "SONNET_POLICY",
    "ApprovalGate",
    "Decision",
    "EmitFindingInput",
    "Saga",
    "SpawnSubagentInput",
    "WriteArtifactInput",
    "emit_finding",
    "pool",
    "spawn_subagent",
    "wait_for_signal",
    "write_artifact",
]
