"""One Temporal plugin that carries everything sagaflow adds to a worker.

:class:`SagaflowPlugin` is a :class:`temporalio.plugin.SimplePlugin`; the same
object configures a ``Worker`` (the daemon and pool workers use it through
:func:`sagaflow._engine.worker.build_worker`), a ``Replayer`` and in-process
tests, so they can never drift apart::

    plugin = SagaflowPlugin(home, settings, {"HelloWorldWorkflow": "hello-world"})
    worker = Worker(client, task_queue="q", workflows=[HelloWorldWorkflow], plugins=[plugin])
    replayer = Replayer(workflows=[HelloWorldWorkflow], plugins=[plugin])

What it adds:

* the built-in activities, bound methods of one
  :class:`~sagaflow._engine.activities.SagaflowActivities` (``write_artifact``,
  ``spawn_subagent``, ``emit_finding``, ``sagaflow_finalize_run``,
  ``sagaflow_gate_inbox``) and the agent loop's tool activity ``sagaflow_run_tool``
  (:mod:`sagaflow.agent.tools.activity`); a skill's own listing of the seed functions
  (``sagaflow.durable.activities.*``) is replaced by them, never registered twice;
* the workflow interceptor (:mod:`sagaflow._engine.interceptors`): run control,
  budget, pause, timeouts, the run's config handed to activities, inbox entries;
* the sandboxed workflow runner with ``sagaflow`` passed through (workflow code
  imports :mod:`sagaflow.workflow` inside ``imports_passed_through()``);
* ``workflow_failure_exception_types=[SkillCodeError]`` (see :class:`SkillCodeError`):
  an exception the skill's code raises fails the run, a nondeterminism error
  (the code on disk no longer matches the run's history) leaves the workflow task
  retrying, so the run stays open until compatible code serves it;
* with ``loaded`` skills: the scheduled-run workflow and its prepare activity
  (:mod:`sagaflow._engine.scheduled`);
* a call to an activity name the worker does not register fails at once with
  the close matches (non-retryable ``UnregisteredActivity``) instead of being
  retried forever (:mod:`sagaflow._engine.activity_check`).
* with ``plugins`` (:mod:`sagaflow.plugins`): their hooks, called outside workflow
  code (:mod:`sagaflow._engine.hooks`, :mod:`sagaflow._engine.step_hooks`); with
  ``otel``: OpenTelemetry spans (:mod:`sagaflow._engine.otel`). Without either, nothing
  of them is added;
* the data converter (:func:`sagaflow._engine.converter.data_converter`: pydantic
  models, large payloads stored under ``<home>/payloads``) for the Replayer and a Client
  given this plugin; a Worker whose client was connected with another converter is
  given a copy of that client with this one, so worker, replayer, tests and the CLI
  always encode and decode alike;
* the agent loop that runs every SKILL.md skill (:mod:`sagaflow.agent.loop`), its
  activities (:class:`~sagaflow.agent.activities.AgentActivities`) and the tools'
  ``sagaflow_run_tool`` (:mod:`sagaflow.agent.tools.activity`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from abc import ABCMeta
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from temporalio.converter import DataConverter
from temporalio.plugin import SimplePlugin
from temporalio.worker import WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError
from temporalio.workflow import NondeterminismError

from sagaflow._engine.activities import SagaflowActivities, worker_run_config
from sagaflow._engine.converter import data_converter, rebind
from sagaflow._engine.hooks import Hooks
from sagaflow._engine.interceptors import SagaflowInterceptor
from sagaflow._engine.seeds import SEED_ACTIVITIES
from sagaflow.agent import AGENT_WORKFLOW
from sagaflow.agent.activities import AgentActivities
from sagaflow.agent.loop import AgentLoop
from sagaflow.agent.tools.activity import run_tool
from sagaflow.config import Settings
from sagaflow.paths import Home
from sagaflow.skills import validation

if TYPE_CHECKING:
    from temporalio.worker import Interceptor, WorkerConfig

    from sagaflow._engine.otel import Otel
    from sagaflow.skills.discovery import LoadedSkills

PLUGIN_NAME = "sagaflow"


class SkillCodeError(Exception, metaclass=ABCMeta):
    """Matches every exception that fails a run: anything but a nondeterminism error.

    Used as the worker's only ``workflow_failure_exception_types`` entry. Which
    exception a workflow raises decides what happens to the run:

    * fails the run (as before): any ``Exception`` the skill's code raises, its own
      classes included (``ValueError``, ``KeyError``, ``class MyError(Exception)``),
      ``RestrictedWorkflowAccessError`` (the skill touched the clock, files or
      network in workflow code), and Temporal's own failures (``ApplicationError``,
      ``ActivityError``, ``ChildWorkflowError``, cancellation), which fail a run
      whatever this list holds;
    * leaves the workflow task retrying, the run open: ``NondeterminismError``
      (the code no longer replays the run's history). The run then shows as
      blocked and resumes once a compatible build serves it.

    A plain list of exception classes cannot say "every Exception but one";
    Python's ABC virtual subclassing can (``__subclasshook__``), and the SDK
    checks the list with ``isinstance``/``issubclass`` (temporalio 1.35,
    ``worker/_workflow.py``: a type that ``NondeterminismError`` is a subclass
    of would turn nondeterminism into a workflow failure).
    """

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        if not issubclass(other, Exception):
            return False
        if issubclass(other, RestrictedWorkflowAccessError):
            return True
        return not issubclass(other, NondeterminismError)


#: the worker's workflow failure exception types (see :class:`SkillCodeError`)
FAILURE_EXCEPTION_TYPES: tuple[type[BaseException], ...] = (SkillCodeError,)


def sandbox_runner() -> WorkflowRunner:
    """The sandboxed runner with ``sagaflow`` passed through (imported once, not per run);
    the same one validates skills before they are reported ok
    (:mod:`sagaflow.skills.validation`)."""
    return validation.sandbox_runner()


class SagaflowPlugin(SimplePlugin):
    """sagaflow's activities, interceptor, sandbox and failure policy as one plugin.

    Args:
        home: The sagaflow home (run directories, inbox).
        settings: Supplies the heartbeat cap default and the worker's fallback run
            configuration (for steps of runs launched without one).
        skills_by_workflow: Workflow type -> skill name, for the workflows that are
            sagaflow runs (they get run control, inbox entries...). Default: the
            skills in ``loaded``, else none.
        heartbeat_cap_seconds: Cap on model steps' heartbeat timeout (a dead worker is
            noticed this fast). Default ``settings.heartbeat_seconds``.
        loaded: The skills this worker runs; enables the scheduled-run workflow,
            whose prepare activity launches runs from them.
        activities: The built-in activities' instance; default
            ``SagaflowActivities(home, defaults=worker_run_config(settings))``. Tests pass
            one with a fake ``complete`` or ``notify``.
        agent: The agent loop's activities; default ``AgentActivities(home)`` with the
            same defaults. Tests pass one with a fake ``converse``.
        plugins: ``(name, plugin)`` pairs whose hooks see every run and step
            (:func:`sagaflow.plugins.load_plugins`; each hook bounded by
            ``settings.plugin_seconds``).
        otel: OpenTelemetry's pieces (:func:`sagaflow._engine.otel.setup`), or None.
    """

    def __init__(
        self,
        home: Home,
        settings: Settings,
        skills_by_workflow: Mapping[str, str] | None = None,
        *,
        heartbeat_cap_seconds: float | None = None,
        loaded: LoadedSkills | None = None,
        activities: SagaflowActivities | None = None,
        agent: AgentActivities | None = None,
        plugins: Sequence[tuple[str, object]] = (),
        otel: Otel | None = None,
    ) -> None:
        if skills_by_workflow is None:
            skills_by_workflow = (
                {spec.workflow_name: spec.name for spec in loaded.registry} if loaded else {}
            )
        self.home = home
        self.settings = settings
        self.skills_by_workflow = {**skills_by_workflow, AGENT_WORKFLOW: AGENT_WORKFLOW}
        self.builtin = activities or SagaflowActivities(
            home, defaults=worker_run_config(settings), slack_webhook=settings.slack_webhook_url
        )
        if agent is None:
            defaults = self.builtin.defaults
            agent = AgentActivities(home, defaults=asdict(defaults) if defaults else None)
        own: list[Callable[..., Any]] = [*self.builtin.all(), *agent.all(), run_tool]
        workflows: list[type] = [AgentLoop]
        if loaded is not None:
            from sagaflow._engine import scheduled

            preparer = scheduled.Preparer(home, settings, loaded, self.builtin.defaults)
            own.append(preparer.prepare_scheduled_run)
            workflows.append(scheduled.ScheduledRunWorkflow)
        self.own_activities = own
        cap = settings.heartbeat_seconds if heartbeat_cap_seconds is None else heartbeat_cap_seconds
        #: the activity names of the worker this plugin configured (empty in a Replayer)
        self.registered: set[str] = set()
        every = [*plugins, *([("opentelemetry", otel.runs)] if otel is not None else [])]
        #: the hooks' caller (None: no plugin, and runs carry nothing for plugins)
        self.hooks = Hooks(every, timeout=settings.plugin_seconds) if every else None
        self.otel = otel
        #: the converter of every client, worker and replayer this plugin configures
        self.converter = data_converter(home, settings)
        super().__init__(
            PLUGIN_NAME,
            data_converter=self._data_converter,
            activities=self._with_builtins,
            workflows=workflows,
            interceptors=self._interceptors(cap),
            workflow_runner=self._runner(),
            workflow_failure_exception_types=list(FAILURE_EXCEPTION_TYPES),
            run_context=self._running,
        )

    def _interceptors(self, cap: float) -> list[Interceptor]:
        """Temporal's tracing outermost (its spans are current inside the others)."""
        from sagaflow._engine.step_hooks import StepHooksInterceptor

        runs = self.skills_by_workflow
        found: list[Interceptor] = [] if self.otel is None else [self.otel.tracing]
        found.append(SagaflowInterceptor(runs, cap, self.registered, self.hooks))
        if self.hooks is not None:
            found.append(StepHooksInterceptor(self.hooks, runs))
        if self.otel is not None:
            found.append(self.otel.steps)
        return found

    def _runner(self) -> WorkflowRunner:
        """The sandbox, with ``opentelemetry`` passed through when tracing is on."""
        runner = sandbox_runner()
        if self.otel is None:
            return runner
        from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

        assert isinstance(runner, SandboxedWorkflowRunner)
        return dataclasses.replace(
            runner, restrictions=runner.restrictions.with_passthrough_modules("opentelemetry")
        )

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        """Around the worker's run: the plugins' thread started first; queued plugin events
        and spans delivered once it stops."""
        if self.hooks is not None:
            self.hooks.start()
        try:
            yield
        finally:
            if self.hooks is not None:
                import asyncio

                await asyncio.to_thread(self.hooks.drain)
            if self.otel is not None:
                self.otel.flush()

    def _data_converter(self, _existing: DataConverter | None) -> DataConverter:
        return self.converter

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """SimplePlugin's worker configuration, on a client using :attr:`converter`; also
        tells the hooks the worker's build id (its Worker Deployment version).

        A Worker takes its data converter from its client; a client connected without
        this plugin (a test environment's, a raw ``Client.connect``) is replaced by a copy
        of it (same connection, namespace and interceptors) with sagaflow's converter.
        """
        deployment = config.get("deployment_config")
        if self.hooks is not None and deployment is not None:
            self.hooks.build = deployment.version.build_id
        config = super().configure_worker(config)
        client = config.get("client")
        if client is not None:
            config["client"] = rebind(client, self.converter)
        return config

    def _with_builtins(
        self, existing: Sequence[Callable[..., Any]] | None
    ) -> Sequence[Callable[..., Any]]:
        """The worker's activities minus the seed functions, plus the built-ins."""
        from temporalio import activity

        seeds = set(map(id, SEED_ACTIVITIES.values()))
        kept = [fn for fn in existing or () if id(fn) not in seeds]
        final = [*kept, *self.own_activities]
        for fn in final:
            defn = activity._Definition.from_callable(fn)
            if defn is not None and defn.name:
                self.registered.add(defn.name)
        return final
