"""sagaflow: durable execution for long-running agent skills, on Temporal.

The public API for skill authors lives in:

* :mod:`sagaflow.registry` — ``SkillRegistry``, ``SkillSpec``
* :mod:`sagaflow.prompts` — ``load_prompt``
* :mod:`sagaflow.durable.activities` — ``write_artifact``, ``spawn_subagent``, ``emit_finding``
* :mod:`sagaflow.durable.retry_policies` — ``HAIKU_POLICY``, ``SONNET_POLICY``, ``OPUS_POLICY``

Importing this package is cheap: it pulls in neither temporalio nor anthropic.
"""

from sagaflow.errors import SagaflowError

__version__ = "0.1.0"

__all__ = ["SagaflowError", "__version__"]
