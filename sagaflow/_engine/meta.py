"""Names sagaflow writes into Temporal: search attributes, memo, updates, queries.

Everything here is plain data (no temporalio import) so the CLI, the worker and
workflow code agree on one spelling. Custom search attributes (registered on
the embedded server automatically; see the README for remote clusters):

==================  =======  ================================================
``SagaflowSkill``   Keyword  the skill's name
``SagaflowState``   Keyword  running | paused | waiting | completed | failed |
                             cancelled | timed_out
``SagaflowWaiting`` Keyword  what a waiting run waits on: ``approval:<step>``,
                             ``budget``, ``signal:<name>``, ``pause`` (unset
                             when it waits on nothing)
``SagaflowCostUsd`` Double   money spent on model calls so far
==================  =======  ================================================
"""

from __future__ import annotations

from typing import Any

SA_SKILL = "SagaflowSkill"
SA_STATE = "SagaflowState"
SA_WAITING = "SagaflowWaiting"
SA_COST = "SagaflowCostUsd"
#: name -> Temporal indexed value type
SEARCH_ATTRIBUTES: dict[str, str] = {
    SA_SKILL: "Keyword",
    SA_STATE: "Keyword",
    SA_WAITING: "Keyword",
    SA_COST: "Double",
}

#: memo keys
MEMO_SKILL = "skill"
MEMO_ARGS = "args"
MEMO_OPTIONS = "sagaflow"

#: updates, queries and signals every sagaflow run answers
UPDATE_DECIDE = "sagaflow_decide"
UPDATE_PAUSE = "sagaflow_pause"
QUERY_STATUS = "sagaflow_status"

#: the envelope ``spawn_subagent`` returns (the interceptor unwraps it for the skill)
ENVELOPE_KEY = "sagaflow_step"
ENVELOPE_VALUE = "value"

DEFAULT_POOL = "default"
#: workflows sagaflow runs for itself (not runs: a schedule's firing starts one, which
#: starts the real run as its child)
SCHEDULED_WORKFLOW = "sagaflow_scheduled_run"


def check_pool(pool: str) -> str:
    """Reject pool names that cannot be part of a task queue name."""
    import re

    from sagaflow.errors import UsageError

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", pool):
        raise UsageError(
            f"Pool name {pool!r} is not usable; use letters, digits, '.', '_' or '-' "
            "(at most 64 characters)."
        )
    return pool


def pool_queue(base_queue: str, pool: str | None) -> str:
    """The task queue that serves ``pool`` (the base queue for the default pool)."""
    if not pool or pool == DEFAULT_POOL:
        return base_queue
    return f"{base_queue}-pool-{pool}"


def run_options(
    *,
    base_queue: str,
    pool: str | None = None,
    budget_usd: float | None = None,
    timeout_seconds: float | None = None,
    step_timeouts: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The ``sagaflow`` memo entry the workflow interceptor reads at start."""
    return {
        "base_queue": base_queue,
        "pool": pool or DEFAULT_POOL,
        "budget_usd": budget_usd,
        "timeout_seconds": timeout_seconds,
        "step_timeouts": dict(step_timeouts or {}),
    }


def memo_for(skill: str, args: dict[str, str], options: dict[str, Any]) -> dict[str, Any]:
    """The memo every sagaflow run is started with (by launch, retry or a schedule)."""
    return {MEMO_SKILL: skill, MEMO_ARGS: dict(args), MEMO_OPTIONS: dict(options)}


def initial_search_attributes(skill: str) -> dict[str, Any]:
    """Search attribute values a run starts with (name -> value)."""
    return {SA_SKILL: skill, SA_STATE: "running", SA_COST: 0.0}
