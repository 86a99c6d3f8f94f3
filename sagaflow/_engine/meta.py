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

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sagaflow.pricing import Price, price_for
from sagaflow.wiretypes import shared, wire

if TYPE_CHECKING:
    from sagaflow.config import Settings

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

#: Temporal's own search attribute naming the version a run is pinned to or ran on last,
#: ``<deployment>:<build>`` (see :mod:`sagaflow._engine.versioning`)
SA_VERSION = "TemporalWorkerDeploymentVersion"


def build_in(version: object) -> str | None:
    """The build id in a ``<deployment>:<build>`` value (a list of one, as listed), or None."""
    if isinstance(version, list | tuple):
        version = version[0] if version else None
    if not isinstance(version, str) or ":" not in version:
        return None
    return version.rsplit(":", 1)[1] or None


#: memo keys
MEMO_SKILL = "skill"
MEMO_ARGS = "args"
MEMO_OPTIONS = "sagaflow"
#: memo key a paused run carries while paused: ``{"by", "reason", "at"}`` (``list`` shows it)
MEMO_PAUSE = "sagaflow_pause"
#: memo key of a run started by the ``child`` helper: the parent run's id
MEMO_PARENT = "sagaflow_parent"

#: updates, queries and signals every sagaflow run answers
UPDATE_DECIDE = "sagaflow_decide"
UPDATE_PAUSE = "sagaflow_pause"
QUERY_STATUS = "sagaflow_status"
#: signal ``retry`` sends (as a post-reset operation) so the whole-run ``--timeout`` starts over
SIGNAL_RESTART_DEADLINE = "sagaflow_restart_deadline"

#: the activities every sagaflow worker registers (skills call them by these names)
WRITE_ARTIFACT = "write_artifact"
SPAWN_SUBAGENT = "spawn_subagent"
EMIT_FINDING = "emit_finding"

#: the system search attribute the server sets on a run whose workflow task keeps failing
REPORTED_PROBLEMS = "TemporalReportedProblems"
#: its value for a nondeterminism error (a run blocked by a code change)
NONDETERMINISTIC_PROBLEM = "cause=WorkflowTaskFailedCauseNonDeterministicError"
#: embedded server dynamic config: tag a failing workflow task at its first retry (default 5)
DEV_SERVER_CONFIG = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=1"

DEFAULT_POOL = "default"
#: a pool's task queue is ``<base queue><POOL_INFIX><pool>``
POOL_INFIX = "-pool-"
#: workflows sagaflow runs for itself (not runs: a schedule's firing starts one, which
#: starts the real run as its child)
SCHEDULED_WORKFLOW = "sagaflow_scheduled_run"


def check_pool(pool: str) -> str:
    """Reject pool names that cannot be part of a task queue name."""
    from sagaflow.paths import check_name

    return check_name(pool, "Pool name", 64)


def pool_queue(base_queue: str, pool: str | None) -> str:
    """The task queue that serves ``pool`` (the base queue for the default pool)."""
    if not pool or pool == DEFAULT_POOL:
        return base_queue
    return f"{base_queue}{POOL_INFIX}{pool}"


def pool_prefix(base_queue: str) -> str:
    """What every pool queue of ``base_queue`` starts with (for visibility queries)."""
    return f"{base_queue}{POOL_INFIX}"


def pool_of(task_queue: str, base_queue: str) -> str:
    """The pool a task queue serves: ``default`` for the base queue, the pool name for
    ``<base>-pool-<name>``, and the queue name itself for a queue of another base."""
    if task_queue == base_queue:
        return DEFAULT_POOL
    prefix = pool_prefix(base_queue)
    return task_queue[len(prefix):] if task_queue.startswith(prefix) else task_queue


@wire
@shared
@dataclass(frozen=True)
class RunConfig:
    """What the built-in activities need to serve one run, fixed when it is launched.

    Read-only, containers included: the data converter hands every step of a run the
    same decoded object (:func:`sagaflow.wiretypes.shared`).

    It travels in the run's memo (:class:`RunOptions`) and the workflow interceptor
    hands it to ``spawn_subagent`` and ``emit_finding`` as their second argument, so
    no activity reads the environment, ``config.yaml`` or ``run.json`` to learn it.

    Attributes:
        transport: ``anthropic``, ``claude`` or ``scripted`` (``auto`` is resolved at launch).
        models: Tier (``HAIKU``...) -> model id.
        prices: Model id -> USD per million tokens, for the models above.
        skill_dir: The skill's directory (scripted replies; "" when unknown).
        allowed_roots: Absolute directories, besides the run directory, where the run
            may write files and read prompts (``artifacts: allowed_roots`` in config.yaml;
            see :mod:`sagaflow._engine.confine`).
        workspace: The launch's working directory (absolute; "" when unknown, e.g. a
            scheduled run): where ``spawn_subagent(tools_needed=True)`` steps' file tools
            work (the run directory when "").
        permissions: config.yaml's ``permissions:`` rule lists (``allow``/``ask``/``deny``
            -> Claude Code rules), for the agent loop and ``tools_needed`` steps.
    """

    transport: str
    models: dict[str, str] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    skill_dir: str = ""
    allowed_roots: list[str] = field(default_factory=list)
    workspace: str = ""
    permissions: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: str, skill_dir: str = "", workspace: str = ""
    ) -> RunConfig:
        """The configuration a launch fixes: the settings' tiers and their prices, the
        permission rules, and the launch's working directory."""
        prices = {
            model: price for model in settings.models.values()
            if (price := price_for(model, settings.prices)) is not None
        }
        return cls(transport=transport, models=dict(settings.models), prices=prices,
                   skill_dir=skill_dir, allowed_roots=list(settings.artifact_roots),
                   workspace=workspace,
                   permissions={k: list(v) for k, v in settings.permissions.items()})

    def model_for(self, tier: str) -> str:
        """Model id for a tier, by the one rule :meth:`Settings.model_for` keeps.

        Raises:
            ConfigError: an unknown tier (never silently upgraded).
        """
        model = self.models.get(tier.upper())
        if model is not None:  # workflow code asks before every model call: no Settings built
            return model  # and no import run through the sandbox's importer for the usual case
        from sagaflow.config import Settings

        return Settings(models=self.models).model_for(tier)  # raises, worded in one place


#: the workflow-side behaviour of runs started now, written into their memo by
#: :func:`memo_for`. 1: cost upserts batched, worst-case budget check (both decided
#: from the memo, so a run records no ``workflow.patched`` marker and no
#: ``TemporalChangeVersion`` upsert for them). Runs whose memo has none (0: started by
#: an earlier sagaflow or another tool) decide each change by ``workflow.patched``.
RUN_REVISION = 1


@wire
@shared  # the same bytes in every run launched alike: decoded once per worker, not per run
@dataclass(frozen=True)
class RunOptions:
    """The ``sagaflow`` memo entry of a run, read by the workflow interceptor at start.

    Attributes:
        base_queue: The base task queue (pools are ``<base>-pool-<name>``).
        pool: The pool serving the run (``default``: the base queue).
        budget_usd: Money the run may spend on model calls (None: no limit).
        timeout_seconds: Whole-run timeout (None: none).
        step_timeouts: Activity name -> start-to-close timeout in seconds, over the skill's.
        config: What the built-in activities need (None for runs started without one:
            the worker's defaults apply).
        revision: The workflow-side behaviour the run was started with
            (:data:`RUN_REVISION`, set by :func:`memo_for`; 0 when the memo has none).
    """

    base_queue: str
    pool: str = DEFAULT_POOL
    budget_usd: float | None = None
    timeout_seconds: float | None = None
    step_timeouts: dict[str, float] = field(default_factory=dict)
    config: RunConfig | None = None
    revision: int = 0


def memo_for(skill: str, args: dict[str, str], options: RunOptions) -> dict[str, Any]:
    """The memo every sagaflow run is started with (by launch or a schedule; retry keeps it).

    Its options carry :data:`RUN_REVISION`.
    """
    return {MEMO_SKILL: skill, MEMO_ARGS: dict(args),
            MEMO_OPTIONS: replace(options, revision=RUN_REVISION)}


def initial_search_attributes(skill: str) -> dict[str, Any]:
    """Search attribute values a run starts with (name -> value)."""
    return {SA_SKILL: skill, SA_STATE: "running", SA_COST: 0.0}
