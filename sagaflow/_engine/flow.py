"""Workflow helpers for model calls and delays: :func:`ask_model`, :func:`sleep`.

Each is a thin layer over one Temporal primitive, for a skill's ``@workflow.defn``
code (import them from :mod:`sagaflow.workflow`):

* :func:`ask_model` — one ``spawn_subagent`` activity whose input carries the prompt
  text (``SpawnSubagentInput.user_prompt``: no ``write_artifact`` first), retried with
  the tier's policy (:mod:`sagaflow._engine.retry_policies`); the run's interceptor
  applies the budget, pause and usage records as for every model step;
* :func:`sleep` — ``workflow.sleep``: a durable timer (the run survives worker and
  server restarts while it waits).

A duration is seconds (``int | float``) or a ``datetime.timedelta``
(:func:`sagaflow.durations.to_timedelta`). Bad arguments raise ``TypeError`` or
``ValueError`` at the call, with one sentence that names the parameter: the run fails
with that sentence (``sagaflow show`` and its FAILED inbox entry).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from temporalio import workflow

from sagaflow._engine.meta import SPAWN_SUBAGENT
from sagaflow._engine.retry_policies import POLICIES
from sagaflow._engine.seeds import SpawnSubagentInput
from sagaflow.durations import Duration, to_timedelta
from sagaflow.models.structured import END, START

#: appended to the system prompt of ``output=dict`` calls whose prompts do not show the format
BLOCK_INSTRUCTION = (
    f"\n\nEnd your reply with the fields asked for, one per line as KEY|value, between a "
    f"line {START} and a line {END}."
)


def _is_model_class(output: object) -> bool:
    """A pydantic model class (duck-typed: no pydantic import for skills that use none)."""
    return isinstance(output, type) and all(
        callable(getattr(output, name, None)) for name in ("model_validate", "model_json_schema")
    )


def _reply_shape(output: object) -> tuple[str, dict[str, Any] | None]:
    """``(reply_as, output_schema)`` for ``output`` (see :func:`ask_model`)."""
    if output is str:
        return "text", None
    if output is dict:
        return "", None
    if isinstance(output, dict):
        return "json", output
    if _is_model_class(output):
        schema = output.model_json_schema()  # type: ignore[attr-defined]
        return "json", schema if isinstance(schema, dict) else None
    raise TypeError(
        "output must be str, dict, a JSON-schema dict or a pydantic model class, "
        f"not {output!r:.80}."
    )


def _check_args(prompt: object, tier: object, max_tokens: object, role: object,
                tools: object) -> str:
    """Validate ask_model's plain arguments; returns the tier's policy name (``HAIKU``...)."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, not {type(prompt).__name__}.")
    if not prompt.strip():
        raise ValueError("prompt is empty; give the model something to answer.")
    if not isinstance(tier, str) or tier.upper() not in POLICIES:
        raise ValueError(f"tier must be one of haiku, sonnet or opus, not {tier!r}.")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive int, not {max_tokens!r}.")
    if not isinstance(role, str) or not role.strip():
        raise ValueError(f"role must be a non-empty str, not {role!r}.")
    if not isinstance(tools, bool):
        raise TypeError(f"tools must be True or False, not {tools!r}.")
    return tier.upper()


async def ask_model(
    prompt: str, *, system: str = "", tier: str = "haiku", max_tokens: int = 4096,
    output: object = str, tools: bool = False, role: str = "ask_model",
    timeout: Duration = 600,
) -> Any:
    """One durable model call from text; returns the parsed reply.

    Args:
        prompt: The user message (text; scripted replies match on it).
        system: The system prompt.
        tier: ``haiku``, ``sonnet`` or ``opus`` (any case): the model the run's
            configuration names for it, and the retry policy of that tier.
        max_tokens: The reply's token limit; a reply cut there fails the step
            (retried only by ``spawn_subagent``'s ``retry_truncated``, which this
            helper leaves off).
        output: What to return: ``str`` the reply text; ``dict`` the reply's
            ``STRUCTURED_OUTPUT_START``/``END`` block as ``dict[str, str]`` (the
            format is added to ``system`` unless it already shows it); a JSON-schema
            dict: the JSON value, validated (one repair turn, see
            :mod:`sagaflow._engine.schema_output`); a pydantic model class: an instance
            of it (its JSON schema is sent, its ``model_validate`` checks the reply).
        tools: Give the model the file and shell tools (a checkpointed tool loop,
            :mod:`sagaflow._engine.tool_step`).
        role: Names the step in ``show`` and its reply file
            (``runs/<id>/steps/<activity>-<role>.response.md``).
        timeout: The longest one attempt may take (seconds or a ``timedelta``);
            heartbeats notice a dead worker within seconds regardless.

    Returns:
        ``str``, ``dict[str, str]``, the JSON value, or the model instance (see ``output``).

    Raises:
        TypeError, ValueError: a bad argument, at the call (before any model call).
        temporalio.exceptions.ActivityError: the step failed after its retries
            (its cause says why: the model's error, a broken schema twice...).
        ValueError: the reply does not validate as the pydantic model.
    """
    tier_name = _check_args(prompt, tier, max_tokens, role, tools)
    reply_as, schema = _reply_shape(output)
    delta = to_timedelta(timeout, "timeout")
    if not isinstance(system, str):
        raise TypeError(f"system must be a str, not {type(system).__name__}.")
    if output is dict and START not in system:
        system += BLOCK_INSTRUCTION
    step = SpawnSubagentInput(
        role=role, tier_name=tier_name, system_prompt=system, user_prompt=prompt,
        max_tokens=max_tokens, tools_needed=tools, output_schema=schema, reply_as=reply_as,
    )
    out: dict[str, str] = await workflow.execute_activity(
        SPAWN_SUBAGENT, step, start_to_close_timeout=delta, retry_policy=POLICIES[tier_name],
    )
    if reply_as == "text":
        return out["text"]
    if reply_as == "":
        return out
    value = json.loads(out["json"])
    if not _is_model_class(output):
        return value
    try:
        return output.model_validate(value)  # type: ignore[attr-defined]
    except ValueError as exc:  # pydantic's ValidationError: many lines; the run shows one
        first = str(exc).splitlines()
        raise ValueError(
            f"The model's reply for role {role} does not fit {output.__name__}: "  # type: ignore[attr-defined]
            f"{' '.join(line.strip() for line in first[1:3]) or exc}."
        ) from None


async def sleep(duration: Duration) -> None:
    """Wait ``duration`` (seconds or a ``timedelta``) on a durable Temporal timer.

    Raises:
        TypeError: ``duration`` is neither seconds nor a ``timedelta``.
        ValueError: it is not positive.
    """
    delta: timedelta = to_timedelta(duration, "duration")
    await workflow.sleep(delta)
