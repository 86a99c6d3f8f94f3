"""The activities every sagaflow worker registers, as one class with its dependencies.

:class:`SagaflowActivities` is built once per worker (by
:class:`~sagaflow._engine.plugin.SagaflowPlugin`) with the home and the model
transport; its bound methods are the activities:

* ``write_artifact(WriteArtifactInput, RunConfig) -> str`` writes a file atomically inside
  the run directory or an allowed root (:mod:`sagaflow._engine.confine`; a relative path
  is relative to the run directory), returns the path as given;
* ``spawn_subagent(SpawnSubagentInput, RunConfig) -> ModelStepResult`` asks a model; the
  skill receives ``ModelStepResult.output`` (``dict[str, str]``, see
  :mod:`sagaflow.models.structured`) through the workflow interceptor, which also
  records the usage; the full reply goes to the run directory, not to history;
* ``emit_finding(EmitFindingInput, RunConfig) -> bool`` appends an inbox entry
  (idempotent per run, status and Temporal execution) and sends a best-effort desktop notification;
  ``inbox_path`` must be this home's ``INBOX.md`` (the one ``build_input`` receives;
  empty means it), anything else is a non-retryable ConfinementError;
* local activities ``sagaflow_finalize_run`` and ``sagaflow_gate_inbox`` (the
  framework's inbox entries, :mod:`sagaflow._engine.framework_activities`).

The :class:`~sagaflow._engine.meta.RunConfig` argument is the run's configuration
(transport, model per tier, prices, skill dir) fixed at launch; the workflow
interceptor appends it from the run's memo, so no activity reads the environment,
``config.yaml`` or ``run.json``. For a run whose memo carries none (started by
another tool, or by an older sagaflow) it appends None and the worker's
``defaults`` apply.

The seed API (the inputs and the module-level ``write_artifact``, ``spawn_subagent``,
``emit_finding`` skills list in their ``SkillSpec``) lives in :mod:`sagaflow._engine.seeds`,
which is cheap to import, and is re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sagaflow import inbox
from sagaflow._engine import framework_activities as framework
from sagaflow._engine.compat_activities import CompatActivities, PostFn
from sagaflow._engine.compat_seeds import COMPAT_SEEDS
from sagaflow._engine.confine import (
    append_to,
    confine,
    current_run_dir,
    home_inbox,
    write_atomically,
)
from sagaflow._engine.control_types import GATE_ACTIVITY, GateInboxInput
from sagaflow._engine.meta import EMIT_FINDING, SPAWN_SUBAGENT, WRITE_ARTIFACT, RunConfig
from sagaflow._engine.model_call import WORKER_ID, CompleteFn, ModelStepResult, run_model_step
from sagaflow._engine.seeds import EmitFindingInput, SpawnSubagentInput, WriteArtifactInput
from sagaflow._engine.tool_step import Converse
from sagaflow.errors import SagaflowError, TransportError
from sagaflow.models import choose_transport
from sagaflow.models import complete as model_complete
from sagaflow.paths import Home

if TYPE_CHECKING:
    from sagaflow.config import Settings

#: built-in activities that take the run's RunConfig as their second argument
CONFIGURED_ACTIVITIES = frozenset({WRITE_ARTIFACT, SPAWN_SUBAGENT, EMIT_FINDING, *COMPAT_SEEDS})
#: names of every activity SagaflowActivities registers
BUILTIN_ACTIVITIES = frozenset({
    WRITE_ARTIFACT, SPAWN_SUBAGENT, EMIT_FINDING, framework.FINALIZE_ACTIVITY, GATE_ACTIVITY,
    *COMPAT_SEEDS,
})


def to_application_error(exc: SagaflowError) -> ApplicationError:
    """Turn a SagaflowError into the failure Temporal records and retries (or not)."""
    delay = getattr(exc, "retry_after", None)
    paid = getattr(exc, "paid_usd", None)
    stop = getattr(exc, "stop_reason", "")
    # paid_usd: the workflow counts it against the budget; stop_reason: show names it
    details = {**({"paid_usd": paid} if paid else {}), **({"stop_reason": stop} if stop else {})}
    return ApplicationError(
        exc.message,
        *([details] if details else []),
        type=type(exc).__name__,
        non_retryable=not exc.retryable,
        next_retry_delay=timedelta(seconds=delay) if delay else None,
    )


def _execution() -> str:
    """The Temporal run id of the workflow execution this activity serves (``""`` when
    called directly, outside a worker): inbox entries are keyed by it."""
    return activity.info().workflow_run_id or "" if activity.in_activity() else ""


async def _heartbeat_forever(interval: float) -> None:
    """Heartbeat every ``interval`` seconds, the first one after ``interval``.

    Not at once: the heartbeat timeout runs from the step's start whether or not it
    beats, so a beat at 0 s adds no safety, while each beat the SDK sends is an RPC and
    a write on the server; a call shorter than ``interval`` sends none.
    """
    while True:
        await asyncio.sleep(interval)
        activity.heartbeat()


class SagaflowActivities:
    """sagaflow's built-in activities, bound to their dependencies.

    Args:
        home: Where run directories and the inbox live.
        defaults: The configuration for steps scheduled without one (runs started
            before it travelled in the memo); None makes such model calls fail.
        complete: The model transport call (default :func:`sagaflow.models.complete`;
            tests pass a fake).
        notify: ``notify(title, body)`` for desktop notifications (default
            :func:`~sagaflow._engine.framework_activities.default_notifier`).
        worker_id: Shown per model step (default ``host:pid``).
        slack_webhook: Where the sagaflow 0.10 Slack activities post ("" records only;
            see :mod:`sagaflow._engine.compat_activities`).
        post: The webhook sender (tests pass a fake).
        converse: The turn-by-turn model call of ``tools_needed`` steps (default
            :func:`sagaflow.models.turns.converse`; tests pass a fake).
    """

    def __init__(
        self, home: Home, *, defaults: RunConfig | None = None,
        complete: CompleteFn | None = None, notify: framework.Notify | None = None,
        worker_id: str = WORKER_ID, slack_webhook: str = "", post: PostFn | None = None,
        converse: Converse | None = None,
    ) -> None:
        self.home = home
        self.defaults = defaults
        self.complete: CompleteFn = complete or model_complete
        self.notify = notify or framework.default_notifier()
        self.worker_id = worker_id
        self.converse = converse
        self.compat = CompatActivities(home, slack_webhook=slack_webhook, post=post)

    def all(self) -> list[Callable[..., Any]]:
        """The bound activity methods, for ``Worker(activities=...)``."""
        return [self.write_artifact, self.spawn_subagent, self.emit_finding,
                self.finalize_run, self.gate_inbox, *self.compat.all()]

    def _config(self, run: RunConfig | None) -> RunConfig:
        config = run or self.defaults
        if config is None:
            raise TransportError(
                "This step carries no run configuration and the worker has no defaults; "
                "launch the run with 'sagaflow launch'.", retryable=False,
            )
        if config.transport == "auto":  # the worker found no transport when it was built
            raise TransportError(
                "No model transport is configured: set ANTHROPIC_API_KEY or install the claude "
                "CLI and restart the worker, or launch with --transport scripted.", retryable=False,
            )
        return config

    @activity.defn(name=WRITE_ARTIFACT)
    async def write_artifact(self, inp: WriteArtifactInput, run: RunConfig | None = None) -> str:
        """Write ``inp.content`` to ``inp.path`` (confined; see the module docstring), or
        add it at the end of the file when ``inp.append``.

        Returns:
            ``inp.path`` as given.

        Raises:
            ApplicationError: ConfinementError (not retryable) when the path leads
                outside the run directory and the run's allowed roots; HomeError
                (retryable) when the file cannot be written.
        """
        config = run or self.defaults
        roots = config.allowed_roots if config is not None else []
        try:
            target = confine(inp.path, current_run_dir(self.home), roots,
                             what="write_artifact path")
            write = append_to if inp.append else write_atomically
            await asyncio.to_thread(write, target, inp.content)
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        except OSError as exc:
            raise ApplicationError(
                f"Cannot write {inp.path}: {exc.strerror}.", type="HomeError", non_retryable=False
            ) from None
        return inp.path

    @activity.defn(name=SPAWN_SUBAGENT)
    async def spawn_subagent(
        self, inp: SpawnSubagentInput, run: RunConfig | None = None
    ) -> ModelStepResult:
        """Ask the run's model transport and parse its structured output.

        Heartbeats from a background task during the whole call (a dead worker is
        noticed within the heartbeat timeout). Must run inside an activity.
        """
        try:
            config = self._config(run)
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        info = activity.info()
        timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 4.0
        beat = asyncio.create_task(_heartbeat_forever(max(0.2, min(1.0, timeout / 4))))
        try:
            return await run_model_step(
                inp, config, home=self.home, complete=self.complete,
                run_id=info.workflow_id or "", activity_id=info.activity_id,
                attempt=info.attempt, worker=self.worker_id, converse=self.converse,
            )
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    @activity.defn(name=EMIT_FINDING)
    async def emit_finding(self, inp: EmitFindingInput, run: RunConfig | None = None) -> bool:
        """Append a finding to the inbox; returns False if it was already there."""
        config = run or self.defaults
        scripted = config is not None and config.transport == "scripted"
        try:
            path = home_inbox(self.home, inp.inbox_path)
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        entry = inbox.Entry(
            run_id=inp.run_id, status=inp.status, skill=inp.skill, summary=inp.summary,
            timestamp=inp.timestamp_iso,
            note="scripted replies, no model called" if scripted else "",
        )
        try:
            written = await asyncio.to_thread(
                functools.partial(inbox.append, execution=_execution()), path, entry
            )
        except SagaflowError as exc:
            raise to_application_error(exc) from None
        if written and inp.notify:
            self.notify(f"sagaflow: {inp.skill} {inp.status}", inp.summary)
        return written

    @activity.defn(name=framework.FINALIZE_ACTIVITY)
    async def finalize_run(self, inp: framework.FinalizeInput) -> bool:
        """The run's DONE/FAILED/CANCELLED inbox entry (see framework_activities)."""
        return await framework.finalize_run(self.home.inbox, inp, self.notify, _execution())

    @activity.defn(name=GATE_ACTIVITY)
    async def gate_inbox(self, inp: GateInboxInput) -> bool:
        """Open or retire a gate's NEEDS APPROVAL inbox entry (see framework_activities)."""
        return await framework.gate_inbox(self.home.inbox, inp, self.notify, _execution())


def worker_run_config(settings: Settings) -> RunConfig:
    """The configuration for steps that carry none: the settings' tiers, prices and
    transport (``auto`` resolved now, once: API key, else the claude CLI; when neither
    is there it stays ``auto`` and a model call fails with the reason)."""
    try:
        transport = choose_transport(settings)
    except TransportError:
        transport = settings.transport
    return RunConfig.from_settings(settings, transport)


def direct_activities() -> SagaflowActivities:
    """The instance a seed function uses when called directly (not on a sagaflow worker).

    Built per call from :meth:`Home.current` and its ``config.yaml``
    (:func:`worker_run_config`).
    """
    from sagaflow.config import load_settings

    home = Home.current()
    settings = load_settings(home)
    return SagaflowActivities(home, defaults=worker_run_config(settings),
                              slack_webhook=settings.slack_webhook_url)
