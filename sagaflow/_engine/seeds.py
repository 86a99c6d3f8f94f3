"""The seed API skills import: the built-in activities' inputs and module-level functions.

Kept apart from :mod:`sagaflow._engine.activities` so that registering a skill (which
``sagaflow launch`` does in its own process) imports only these dataclasses, not the
activity implementations, the inbox or the model-call code.

``write_artifact``, ``spawn_subagent`` and ``emit_finding`` are what skills list in
their ``SkillSpec``: on a sagaflow worker they are replaced by the bound methods of
:class:`~sagaflow._engine.activities.SagaflowActivities` of the same name (never run).
Called directly (or registered on some other worker) they do the same work with
:func:`~sagaflow._engine.activities.direct_activities`: the current home and its
``config.yaml``.

Every field the seed README omits has a default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio import activity

from sagaflow._engine.meta import EMIT_FINDING, SPAWN_SUBAGENT, WRITE_ARTIFACT
from sagaflow.wiretypes import wire


@wire
@dataclass(frozen=True)
class WriteArtifactInput:
    path: str
    content: str
    #: add ``content`` at the end of the file instead of replacing it (sagaflow 0.10)
    append: bool = False


@wire
@dataclass(frozen=True)
class SpawnSubagentInput:
    role: str
    tier_name: str
    system_prompt: str
    #: the user prompt's file (written before, e.g. by write_artifact); or give ``user_prompt``
    user_prompt_path: str = ""
    max_tokens: int = 4096
    tools_needed: bool = False
    output_path: str = ""
    #: a reply cut at max_tokens before its structured block is retried (a fresh,
    #: paid sample) instead of failing the step at once
    retry_truncated: bool = False
    #: a JSON schema: the reply must be JSON valid against it (one repair turn, then a
    #: non-retryable SchemaOutputError); the skill receives the object's top-level fields,
    #: values that are not strings as JSON text (as sagaflow 0.10 did)
    output_schema: dict[str, Any] | None = None
    #: sagaflow 0.10 field, informational: steps always use the run's own directory
    run_dir: str = ""
    #: sagaflow 0.10 field: MCP servers are not supported; a set path is logged and
    #: noted in the step's record, never silently dropped
    mcp_config_path: str | None = None
    #: the user prompt itself, instead of ``user_prompt_path`` (give exactly one); what
    #: ``ask_model`` sends, so no write_artifact step is needed
    user_prompt: str = ""
    #: what the step's output holds: ``""`` the parsed structured block (``KEY -> value``),
    #: ``"text"`` the whole reply as ``{"text": reply}``, ``"json"`` (with ``output_schema``)
    #: the validated JSON value as ``{"json": "<JSON text>"}`` (types kept)
    reply_as: str = ""


@wire
@dataclass(frozen=True)
class EmitFindingInput:
    inbox_path: str
    run_id: str
    skill: str
    status: str
    summary: str
    timestamp_iso: str = ""
    notify: bool = True


@activity.defn(name=WRITE_ARTIFACT)
async def write_artifact(inp: WriteArtifactInput) -> str:
    """Seed API: write a file atomically; returns its path (see the module docstring)."""
    from sagaflow._engine.activities import direct_activities

    return await direct_activities().write_artifact(inp)


@activity.defn(name=SPAWN_SUBAGENT)
async def spawn_subagent(inp: SpawnSubagentInput) -> dict[str, str]:
    """Seed API: one model call; returns the parsed structured output.

    On a sagaflow worker the skill receives the same ``dict[str, str]`` (the
    interceptor unwraps ``ModelStepResult``). Called directly it must run
    inside an activity (it heartbeats and names its files after the activity).
    """
    from sagaflow._engine.activities import direct_activities

    return (await direct_activities().spawn_subagent(inp)).output


@activity.defn(name=EMIT_FINDING)
async def emit_finding(inp: EmitFindingInput) -> bool:
    """Seed API: append an inbox entry; returns False if it was already there."""
    from sagaflow._engine.activities import direct_activities

    return await direct_activities().emit_finding(inp)


if TYPE_CHECKING:
    #: every seed activity by name: these three and the sagaflow 0.10 ones
    #: (finalize_manifest, run_shell, Slack), for the worker and the plugin
    SEED_ACTIVITIES: dict[str, Callable[..., Any]]


def __getattr__(name: str) -> Any:
    # SEED_ACTIVITIES is built on first use (PEP 562): the worker needs it, but a skill's
    # registration, which every `sagaflow launch` imports, does not need the 0.10
    # activities' module (about 3 ms)
    if name != "SEED_ACTIVITIES":
        raise AttributeError(f"module 'sagaflow._engine.seeds' has no attribute {name!r}")
    from sagaflow._engine.compat_seeds import COMPAT_SEEDS

    value: dict[str, Callable[..., Any]] = {
        WRITE_ARTIFACT: write_artifact, SPAWN_SUBAGENT: spawn_subagent,
        EMIT_FINDING: emit_finding, **COMPAT_SEEDS,
    }
    globals()[name] = value  # later lookups skip this function
    return value
