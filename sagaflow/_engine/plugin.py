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
  ``sagaflow_gate_inbox``); a skill's own listing of the seed functions
  (``sagaflow.durable.activities.*``) is replaced by them, never registered twice;
* the workflow interceptor (:mod:`sagaflow._engine.interceptors`): run control,
  budget, pause, timeouts, the run's config handed to activities, inbox entries;
* the sandboxed workflow runner with ``sagaflow`` passed through (workflow code
  imports :mod:`sagaflow.workflow` inside ``imports_passed_through()``);
* ``workflow_failure_exception_types=[Exception]``: any exception, including a
  nondeterminism error, fails the run instead of retrying its workflow task;
* with ``loaded`` skills: the scheduled-run workflow and its prepare activity
  (:mod:`sagaflow._engine.scheduled`);
* the agent loop that runs every SKILL.md skill (:mod:`sagaflow.agent.loop`), its
  activities (:class:`~sagaflow.agent.activities.AgentActivities`) and the tools'
  ``sagaflow_run_tool`` (:mod:`sagaflow.agent.tools.activity`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from temporalio.plugin import SimplePlugin
from temporalio.worker import WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from sagaflow._engine.activities import SagaflowActivities, worker_run_config
from sagaflow._engine.interceptors import SagaflowInterceptor
from sagaflow._engine.seeds import SEED_ACTIVITIES
from sagaflow.agent import AGENT_WORKFLOW
from sagaflow.agent.activities import AgentActivities
from sagaflow.agent.loop import AgentLoop
from sagaflow.config import Settings
from sagaflow.paths import Home

if TYPE_CHECKING:
    from sagaflow.skills.discovery import LoadedSkills

PLUGIN_NAME = "sagaflow"


def sandbox_runner() -> WorkflowRunner:
    """The sandboxed runner with ``sagaflow`` passed through (imported once, not per run)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("sagaflow")
    )


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
    ) -> None:
        if skills_by_workflow is None:
            skills_by_workflow = (
                {spec.workflow_name: spec.name for spec in loaded.registry} if loaded else {}
            )
        self.home = home
        self.settings = settings
        self.skills_by_workflow = {**skills_by_workflow, AGENT_WORKFLOW: AGENT_WORKFLOW}
        self.builtin = activities or SagaflowActivities(
            home, defaults=worker_run_config(settings)
        )
        if agent is None:
            defaults = self.builtin.defaults
            agent = AgentActivities(home, defaults=asdict(defaults) if defaults else None)
        from sagaflow.agent.tools.activity import run_tool

        own: list[Callable[..., Any]] = [*self.builtin.all(), *agent.all(), run_tool]
        workflows: list[type] = [AgentLoop]
        if loaded is not None:
            from sagaflow._engine import scheduled

            preparer = scheduled.Preparer(home, settings, loaded, self.builtin.defaults)
            own.append(preparer.prepare_scheduled_run)
            workflows.append(scheduled.ScheduledRunWorkflow)
        self.own_activities = own
        cap = settings.heartbeat_seconds if heartbeat_cap_seconds is None else heartbeat_cap_seconds
        super().__init__(
            PLUGIN_NAME,
            activities=self._with_builtins,
            workflows=workflows,
            interceptors=[SagaflowInterceptor(self.skills_by_workflow, cap)],
            workflow_runner=sandbox_runner(),
            workflow_failure_exception_types=[Exception],
        )

    def _with_builtins(
        self, existing: Sequence[Callable[..., Any]] | None
    ) -> Sequence[Callable[..., Any]]:
        """The worker's activities minus the seed functions, plus the built-ins."""
        seeds = set(map(id, SEED_ACTIVITIES.values()))
        kept = [fn for fn in existing or () if id(fn) not in seeds]
        return [*kept, *self.own_activities]
