"""sagaflow: durable execution for long-running agent skills, on Temporal.

Public faces (everything else is private and may move):

* :mod:`sagaflow.workflow` — all a skill's workflow code imports: activities and their
  inputs, approval gates, signals, sagas, pools, retry policies;
* :mod:`sagaflow.registry` — ``SkillRegistry``, ``SkillSpec`` (a skill's ``register()``);
* :mod:`sagaflow.prompts` — ``load_prompt``;
* seed paths kept as re-exports: :mod:`sagaflow.durable.activities`,
  :mod:`sagaflow.durable.retry_policies`;
* the names skills written for sagaflow 0.10 import: :mod:`sagaflow.durable.state`
  (``WorkflowState``), :mod:`sagaflow.slack_progress`, :mod:`sagaflow.temporal_client`
  (``TASK_QUEUE``), ``finalize_manifest`` / ``run_shell`` in
  :mod:`sagaflow.durable.activities`, ``load_claude_skill_prompt`` in
  :mod:`sagaflow.prompts`. Other 0.10 internals (its RLM runner, MCP registry, ``@skill``
  decorator) fail at import with one line naming them (:mod:`sagaflow.skills.unsupported`).

Importing this package is cheap: it pulls in neither temporalio nor anthropic; the
names below are loaded on first use.
"""

from __future__ import annotations

from sagaflow.errors import SagaflowError
from sagaflow.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "SkillRegistry": "sagaflow.registry",
    "SkillSpec": "sagaflow.registry",
    "load_prompt": "sagaflow.prompts",
}

__all__ = ["SagaflowError", "SkillRegistry", "SkillSpec", "__version__", "load_prompt"]


__getattr__ = lazy_exports(__name__, _LAZY)
