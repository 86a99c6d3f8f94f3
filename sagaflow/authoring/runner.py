"""Running a skill offline: Temporal in process, scripted replies, answers, expectations.

:class:`OfflineRunner` starts Temporal's time-skipping test server in process
(:mod:`sagaflow._engine.testkit`) and runs each skill run on a fresh sagaflow worker
(the daemon's plugin) whose model is the scripted transport, in a fresh home under a
temporary directory: no server, worker daemon, API key or network. A run is launched
as ``sagaflow launch`` launches it (:func:`~sagaflow.skills.prepare.prepare`, then
:func:`~sagaflow.runs.start.start`). ``sagaflow test`` and :mod:`sagaflow.testing`
both use it::

    async with OfflineRunner(loaded) as runner:
        seen = await runner.run("hello-world", args={"name": "alice"})
        seen.status, seen.result            # "DONE", "hello, alice"

Answers (:class:`~sagaflow.authoring.cases.Answer`) are given in order, each once the
run waits on its gate or signal; until the last one is given, time runs at real speed
(a gate's timeout cannot fire before its answer), except that a run waiting only on
timers (``sleep``) skips ahead to the next one. After the last answer, waiting on the
result skips time: a one-hour gate timeout takes milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from sagaflow._engine import meta, testkit
from sagaflow._engine.converter import data_converter, rebind
from sagaflow._engine.failures import failure_reason
from sagaflow._engine.meta import RunOptions
from sagaflow.authoring import driving
from sagaflow.authoring.cases import Answer
from sagaflow.authoring.expect import Observed, plain
from sagaflow.config import Settings
from sagaflow.errors import UsageError
from sagaflow.inbox_format import WAITING_STATUSES, Entry
from sagaflow.models import REPLIES_FILE
from sagaflow.paths import Home
from sagaflow.skills.discovery import LoadedSkills

Replies = Path | str | Sequence[dict[str, Any]] | dict[str, Any] | None
#: real seconds to wait for a finished run's inbox entry
ENTRY_WAIT = 2.0


class OfflineRunner:
    """Offline runs of ``loaded``'s skills on an in-process Temporal (an async context).

    Args:
        loaded: The skills (:func:`sagaflow.skills.discovery.load_skills`); every one
            is served, so a run's child runs work.
        root: Where each run's home and workspace go (default: a temporary
            directory removed on exit).
    """

    def __init__(self, loaded: LoadedSkills, *, root: Path | None = None) -> None:
        self.loaded = loaded
        self._given_root = root
        self.root = root or Path()
        self.env: WorkflowEnvironment | None = None

    async def __aenter__(self) -> OfflineRunner:
        if self._given_root is None:
            self.root = Path(tempfile.mkdtemp(prefix="sagaflow-test-"))
        try:
            self.env = await testkit.start_environment()
        except BaseException:  # no server, or Ctrl-C while it starts: __aexit__ never runs
            if self._given_root is None:
                shutil.rmtree(self.root, ignore_errors=True)
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self.env is not None:
            await self.env.shutdown()
            self.env = None
        if self._given_root is None:
            shutil.rmtree(self.root, ignore_errors=True)

    async def run(
        self, skill: str, *, args: dict[str, str] | None = None, replies: Replies = None,
        answers: Sequence[Answer] = (), timeout: float = 60.0,
    ) -> Observed:
        """Launch ``skill`` with ``args`` (launch text), answer, and observe the run.

        Args:
            replies: The scripted replies: None for the skill's ``replies.yaml``, a file
                (relative to the skill directory), a list of ``{match, reply}`` rules
                or a replies.yaml mapping.
            answers: Given in order, each once the run waits on it.
            timeout: Real seconds the run may take; then it is terminated and observed
                as ``RUNNING`` with what it waited on.

        Raises:
            UsageError: Unknown skill, bad arguments or replies (as ``launch`` says them).
        """
        assert self.env is not None, "use the runner inside 'async with'"
        skill_dir = self.loaded.dir_of(skill)
        where = self.root / f"{skill}-{uuid.uuid4().hex[:8]}"
        home, workspace = Home(where / "home"), where / "workspace"
        workspace.mkdir(parents=True)
        replies_dir = _replies_dir(replies, skill_dir, where / "replies")
        settings = Settings(task_queue=f"test-{uuid.uuid4().hex[:12]}", transport="scripted")
        model = testkit.ScriptedModel(replies_dir)
        started = time.monotonic()
        with contextlib.chdir(workspace):  # a SKILL.md run's workspace is the launch's cwd
            from sagaflow.skills.prepare import prepare

            prepared = prepare(home, settings, self.loaded, skill, dict(args or {}),
                               transport="scripted", check_transport=False)
        config = testkit.scripted_config(settings, prepared.record.skill_dir, str(workspace))
        # this run's payloads (pydantic, large ones stored under its home) as launch encodes them
        client = rebind(self.env.client, data_converter(home, settings))
        async with testkit.build_worker(client, home, settings, self.loaded, model):
            from sagaflow.runs.start import start

            handle, _ = await start(client, settings, prepared, home=home,
                                    options=RunOptions(base_queue=settings.task_queue,
                                                       config=config))
            live = client.get_workflow_handle(prepared.run_id)  # its latest run, after continue-as-new
            outcome = await _drive(self.env, handle, live, answers, started + timeout)
            seconds = time.monotonic() - started
            steps = await driving.steps_of(client, handle)
        entry = await _final_entry(home, prepared.run_id, running=outcome.stuck)
        status = "RUNNING" if outcome.stuck else await _temporal_status(live)
        if status == "TIMED_OUT":  # no timeout was set: the server skipped to the end of time
            outcome.waiting = await _last_waiting(live)
            outcome.error = (f"the run still waited on {outcome.waiting or 'something'} when the "
                             "test server skipped to the end of time; give it an answer in the case")
        return Observed(
            run_id=prepared.run_id, status=entry.status if entry else status,
            result=outcome.result, error=outcome.error, inbox=entry, steps=steps,
            model_calls=model.calls, waiting_on=outcome.waiting, seconds=round(seconds, 3),
            notes=outcome.notes,
        )


def _read_yaml(path: Path) -> Any:
    """A case's named replies file, parsed.

    Raises:
        UsageError: Unreadable, not UTF-8 or not YAML (one line naming the file and line).
    """

    from sagaflow.models.scripted import yaml_problem

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read scripted replies {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise UsageError(f"Scripted replies {path} are not UTF-8 text; save the file as "
                         "UTF-8.") from None
    except yaml.YAMLError as exc:
        raise UsageError(yaml_problem(path, exc)) from None


def _replies_dir(replies: Replies, skill_dir: Path | None, scratch: Path) -> Path | None:
    """The directory whose replies.yaml answers the run (None: the skill's own).

    Raises:
        UsageError: A named replies file does not exist.
    """
    if replies is None:
        return None
    if isinstance(replies, str | Path):
        path = Path(replies) if Path(replies).is_absolute() else (skill_dir or Path()) / replies
        if not path.is_file():
            raise UsageError(f"Scripted replies {path} do not exist; name a file relative to the "
                             f"skill directory {skill_dir}, or give the rules inline.")
        if path.name == REPLIES_FILE:
            return path.parent
        data: Any = _read_yaml(path)
    else:
        data = {"replies": list(replies)} if isinstance(replies, Sequence) else dict(replies)
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / REPLIES_FILE).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return scratch


@dataclass
class _Outcome:
    """How driving a run ended: its result or failure reason, or where it got stuck."""

    result: Any = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    waiting: str = ""
    stuck: bool = False


async def _drive(env: WorkflowEnvironment, started: WorkflowHandle[Any, Any],
                 live: WorkflowHandle[Any, Any], answers: Sequence[Answer],
                 deadline: float) -> _Outcome:
    """Give the answers, then wait for the result with time skipped; a stuck run is stopped.

    ``started`` is the handle of the execution launch started (its result follows
    continue-as-new; the test server finds no result for a handle without a run id),
    ``live`` the run's latest execution, which is queried, answered and stopped.
    """
    outcome = _Outcome()
    try:
        outcome.notes = await driving.answer_all(env, live, list(answers), deadline)
        outcome.result, outcome.error = await _result(started, live, deadline)
    except driving.Stuck as exc:  # always a failed case, whatever it expects
        outcome.notes.append(exc.reason)
        outcome.waiting, outcome.stuck = exc.waiting_on, True
        await _stop(live)
    return outcome


async def _result(handle: WorkflowHandle[Any, Any], live: WorkflowHandle[Any, Any],
                  deadline: float) -> tuple[Any, str]:
    """The run's result (as JSON data) or its failure reason, waiting with time skipped.

    Raises:
        driving.Stuck: The run did not finish before ``deadline``.
    """
    remaining = max(0.1, deadline - time.monotonic())
    try:
        value = await asyncio.wait_for(handle.result(), remaining)
    except WorkflowFailureError as exc:
        return None, failure_reason(exc.cause or exc)
    except TimeoutError:
        status = await driving.status_of(live)
        busy = await driving.retrying(live)
        raise driving.Stuck(
            "the run did not finish in time"
            + (f"; it waits on {status.waiting_on}" if status and status.waiting_on else "")
            + (f"; {busy}" if busy else ""),
            status.waiting_on if status else "",
        ) from None
    return plain(value), ""


async def _stop(handle: WorkflowHandle[Any, Any]) -> None:
    with contextlib.suppress(Exception):  # it may have ended on its own meanwhile
        await handle.terminate("sagaflow test: the case stopped it")


async def _temporal_status(handle: WorkflowHandle[Any, Any]) -> str:
    desc = await handle.describe()
    return desc.status.name if desc.status else "UNKNOWN"


async def _last_waiting(handle: WorkflowHandle[Any, Any]) -> str:
    """What a closed run last waited on (its ``SagaflowWaiting`` search attribute)."""
    desc = await handle.describe()
    value = desc.search_attributes.get(meta.SA_WAITING) or [""]
    return str(value[0])


async def _final_entry(home: Home, run_id: str, *, running: bool) -> Entry | None:
    """The run's last inbox entry that does not ask for an action (waits briefly for it:
    the run's last local activity writes it)."""
    from sagaflow import inbox

    deadline = time.monotonic() + (0 if running else ENTRY_WAIT)
    while True:
        entries, _ = await asyncio.to_thread(inbox.read, home.inbox)
        final = [e for e in entries if e.run_id == run_id
                 and e.status.replace(" ", "_") not in WAITING_STATUSES]
        if final or time.monotonic() >= deadline:
            return final[-1] if final else None
        await asyncio.sleep(0.02)

