"""The budget check's estimate of a model call's worst case (workflow side, pure).

Deterministic: it reads only the run's :class:`~sagaflow._engine.meta.RunConfig`
(tier -> model -> price) and sizes the workflow already knows (the prompt the skill
wrote with ``write_artifact``, the step's ``max_tokens``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagaflow.pricing import MTOK, price_for

if TYPE_CHECKING:
    from sagaflow._engine.meta import RunConfig

#: ``workflow.patched`` id: runs recorded before the worst-case budget check keep the old one
BUDGET_WORST_CASE_PATCH = "sagaflow-budget-worst-case"
#: input tokens per prompt byte assumed by the budget check (tokenizers average 3-4 bytes
#: per token on text; this bound is exceeded only by unusual text, see the README)
BYTES_PER_TOKEN = 3
#: input tokens Claude Code adds to every ``claude -p`` call (its own system prompt and
#: tools; measured about 10,600 with Claude Code 2.1.330)
CLAUDE_CLI_OVERHEAD_TOKENS = 12_000


def worst_case_usd(
    config: RunConfig | None, tier: str, prompt_bytes: int | None, max_tokens: int,
    last_call_usd: float = 0.0,
) -> float:
    """What the next model call could cost at most, in USD.

    Input: ``prompt_bytes`` / :data:`BYTES_PER_TOKEN` tokens (plus Claude Code's own
    prompt for the ``claude`` transport) at the tier's input price; output:
    ``max_tokens`` at its output price. Never less than ``last_call_usd`` (the
    prompt size is unknown when the skill did not write it with ``write_artifact``).
    0 for the ``scripted`` transport and for a model with no price (its cost is unknown).
    """
    estimate = 0.0
    if config is not None and config.transport != "scripted":
        try:
            price = price_for(config.model_for(tier), config.prices)
        except Exception:  # an unknown tier fails the step itself, with its reason
            price = None
        if price is not None:
            tokens = -(-(prompt_bytes or 0) // BYTES_PER_TOKEN)
            if config.transport == "claude":
                tokens += CLAUDE_CLI_OVERHEAD_TOKENS
            estimate = (tokens * price.input + max(0, max_tokens) * price.output) / MTOK
    return max(estimate, last_call_usd)
