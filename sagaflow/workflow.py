"""The public API for skill workflow code: import everything a workflow needs from here.

Inside a ``@workflow.defn`` class, import it through the sandbox pass-through::

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from sagaflow.workflow import (
            ApprovalGate, Saga, ask_model, sleep, wait_for_signal,
        )

What is here:

* flow helpers, each a thin layer over a Temporal primitive (a duration is seconds
  as ``int | float`` or a ``datetime.timedelta``, everywhere; anything else raises
  ``TypeError`` naming the parameter):

  - ``ask_model(prompt, *, system, tier, max_tokens, output, tools, role, timeout)`` —
    one durable model call from text (``spawn_subagent`` with the prompt inline);
    returns the reply text (``output=str``), its structured block (``dict``), the JSON
    value (a JSON-schema dict) or a pydantic model instance (a model class);
  - ``parallel(calls, *, max_concurrency, fail_fast)`` — bounded fan-out/join of
    zero-argument callables, results in order; a failure raises ``ParallelError``
    (``.branches``: one ``Branch`` per call with ``index``, ``ok``, ``value``, ``error``);
  - ``loop_until(body, *, max_iterations, on_max)`` — ``body(iteration, previous) ->
    (done, value)`` until done; at the limit ``LoopLimitError`` or the last value;
  - ``route(key, {key: branch}, *, default)`` — run the branch a key names (keys
    checked first; an undeclared key without a default raises ``ValueError``);
  - ``sleep(duration)`` — a durable timer;
  - ``child(skill, args, *, wait)`` — another skill as a child run (its own run id
    and inbox entry); returns its result, or its run id with ``wait=False``;

* activities every worker registers, by name: ``write_artifact``, ``spawn_subagent``
  (one model call; the skill receives its parsed output, a ``dict[str, str]``, while
  history keeps the output with its tokens and cost), ``emit_finding`` (an inbox
  entry), with their input dataclasses; the worker's plugin supplies them whether or
  not a ``SkillSpec`` lists them;
* ``ApprovalGate`` / ``Decision`` — a human decision, with timeout and default;
* ``wait_for_signal`` — the oldest buffered signal of a name (optional timeout);
* ``Saga`` — compensations run newest first on failure or cancellation;
* ``pool`` — the task queue of a worker pool, for ``execute_activity(task_queue=...)``;
* ``HAIKU_POLICY`` / ``SONNET_POLICY`` / ``OPUS_POLICY`` — retry policies per model tier.

Everything else in sagaflow is private and may move; the seed paths
(``sagaflow.durable.activities``, ``sagaflow.durable.retry_policies``) stay as re-exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagaflow.lazy import lazy_exports

if TYPE_CHECKING:
    from sagaflow._engine.control_types import Decision
    from sagaflow._engine.flow import ask_model, sleep
    from sagaflow._engine.flow_child import child
    from sagaflow._engine.flow_control import (
        Branch,
        LoopLimitError,
        ParallelError,
        loop_until,
        parallel,
        route,
    )
    from sagaflow._engine.helpers import ApprovalGate, Saga, pool, wait_for_signal
    from sagaflow._engine.retry_policies import HAIKU_POLICY, OPUS_POLICY, SONNET_POLICY
    from sagaflow._engine.seeds import (
        EmitFindingInput,
        SpawnSubagentInput,
        WriteArtifactInput,
        emit_finding,
        spawn_subagent,
        write_artifact,
    )

# Each name loads its module on first use (PEP 562), so a skill's registration, which
# `sagaflow launch` imports, does not pay for the workflow-side control plane it never runs.
_WHERE = {
    "EmitFindingInput": "sagaflow._engine.seeds",
    "SpawnSubagentInput": "sagaflow._engine.seeds",
    "WriteArtifactInput": "sagaflow._engine.seeds",
    "emit_finding": "sagaflow._engine.seeds",
    "spawn_subagent": "sagaflow._engine.seeds",
    "write_artifact": "sagaflow._engine.seeds",
    "Decision": "sagaflow._engine.control_types",
    "ask_model": "sagaflow._engine.flow",
    "sleep": "sagaflow._engine.flow",
    "child": "sagaflow._engine.flow_child",
    "Branch": "sagaflow._engine.flow_control",
    "LoopLimitError": "sagaflow._engine.flow_control",
    "ParallelError": "sagaflow._engine.flow_control",
    "loop_until": "sagaflow._engine.flow_control",
    "parallel": "sagaflow._engine.flow_control",
    "route": "sagaflow._engine.flow_control",
    "ApprovalGate": "sagaflow._engine.helpers",
    "Saga": "sagaflow._engine.helpers",
    "pool": "sagaflow._engine.helpers",
    "wait_for_signal": "sagaflow._engine.helpers",
    "HAIKU_POLICY": "sagaflow._engine.retry_policies",
    "OPUS_POLICY": "sagaflow._engine.retry_policies",
    "SONNET_POLICY": "sagaflow._engine.retry_policies",
}


__getattr__ = lazy_exports(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "HAIKU_POLICY",
    "OPUS_POLICY",
    "SONNET_POLICY",
    "ApprovalGate",
    "Branch",
    "Decision",
    "EmitFindingInput",
    "LoopLimitError",
    "ParallelError",
    "Saga",
    "SpawnSubagentInput",
    "WriteArtifactInput",
    "ask_model",
    "child",
    "emit_finding",
    "loop_until",
    "parallel",
    "pool",
    "route",
    "sleep",
    "spawn_subagent",
    "wait_for_signal",
    "write_artifact",
]
