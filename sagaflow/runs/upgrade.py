"""``sagaflow upgrade RUN... | --skill SKILL``: move open runs to this directory's build.

A run stays pinned to the build that started it (:mod:`sagaflow._engine.versioning`).
Upgrading re-pins it to the *current* build of the working directory (snapshotted
and served like ``launch`` does), but only when its history replays on that build's
code: the check replays with the build's snapshot, the code its worker will load,
not the live skill directories. ``force`` skips the check; a run whose history does
not replay then blocks (never fails) until a compatible build serves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus

from sagaflow._engine import daemon, meta, versioning
from sagaflow.config import Settings
from sagaflow.errors import UsageError
from sagaflow.paths import Home
from sagaflow.runs import replaycheck
from sagaflow.runs import start as runs
from sagaflow.runs.listing import executions
from sagaflow.runs.reach import status_name
from sagaflow.skills import builds
from sagaflow.skills.discovery import LoadedSkills, discover, load_skills

MOVED, REFUSED, ALREADY, FORCED = "moved", "refused", "already", "forced"


@dataclass
class Upgrade:
    """What ``upgrade`` did to one run (``--json`` prints these as objects).

    Attributes:
        run_id: sagaflow's run id (the workflow id).
        skill: The run's skill.
        action: ``moved`` (checked, then re-pinned), ``forced`` (re-pinned unchecked),
            ``refused`` (left where it was) or ``already`` (on the target build).
        from_build: The build the run was pinned to (None: unversioned).
        to_build: The working directory's current build.
        reason: Why it was refused: the first divergence, or the rule it breaks.
    """

    run_id: str
    skill: str
    action: str
    from_build: str | None
    to_build: str
    reason: str = ""

    def line(self) -> str:
        """One line: ``<run>: moved from build A to build B`` / ``refused: ...``."""
        if self.action == ALREADY:
            return f"{self.run_id}: already on build {self.to_build}"
        if self.action == REFUSED:
            return f"{self.run_id}: refused: {self.reason}"
        how = "moved" if self.action == MOVED else "moved without a replay check (--force)"
        return f"{self.run_id}: {how} from build {self.from_build or 'none'} to build {self.to_build}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_skills(build: builds.Build) -> LoadedSkills:
    """The skills of ``build`` loaded from its snapshot, as its worker loads them."""
    return load_skills(found=(build.sources(), []))


def _skill_of(desc: WorkflowExecutionDescription) -> str:
    return next((str(p.value) for p in desc.typed_search_attributes
                 if p.key.name == meta.SA_SKILL), desc.workflow_type)


async def _describe_all(client: Client, run_ids: Sequence[str]) -> list[WorkflowExecutionDescription]:
    """Describe every named run first, so a typo moves nothing.

    Raises:
        RunNotFoundError: No run has one of the ids.
    """
    return list(await asyncio.gather(
        *(runs.describe(client.get_workflow_handle(r)) for r in run_ids)))


async def _skill_runs(client: Client, settings: Settings, skill: str) -> list[str]:
    query = replaycheck.run_query(settings.task_queue, skill, open_runs=True)
    return [wf.id async for wf in executions(client, query, None)]


def _rule(desc: WorkflowExecutionDescription, settings: Settings, target: str,
          loaded: LoadedSkills) -> Upgrade | None:
    """The verdict for a run that cannot or need not move, without replaying (None: check it)."""
    skill = _skill_of(desc)
    current = versioning.build_of(desc, settings.task_queue)
    verdict = Upgrade(desc.id, skill, REFUSED, current, target)
    if desc.status != WorkflowExecutionStatus.RUNNING:
        verdict.reason = f"it is {status_name(desc.status)}; closed runs cannot move"
    elif desc.task_queue != settings.task_queue:
        pool = meta.pool_of(desc.task_queue, settings.task_queue)
        verdict.reason = (f"it runs on pool {pool} (task queue {desc.task_queue}), whose workers "
                          "load the code in their own directory; restart them to change it")
    elif current == target:
        verdict.action = ALREADY
    elif loaded.registry.get(skill) is None:
        verdict.reason = (f"skill {skill} is not in build {target} (not found or not loading "
                          "from this directory; see 'sagaflow skills')")
    else:
        return None
    return verdict


async def _replay(client: Client, home: Home, settings: Settings, loaded: LoadedSkills,
                  pending: list[Upgrade]) -> None:
    """Refuse (in place) every pending run whose history does not replay on ``loaded``."""
    histories = await asyncio.gather(
        *(client.get_workflow_handle(u.run_id).fetch_history() for u in pending))
    replayer = replaycheck.replayer_for(home, settings, loaded)
    checks = await replaycheck.check_histories(
        replayer, [("running", h) for h in histories])
    for upgrade, check in zip(pending, checks, strict=True):
        if check.compatible:
            continue
        upgrade.action = REFUSED
        head = f"{check.line().split(': ', 1)[1]}"  # "incompatible at event ..." / "not checked"
        upgrade.reason = (f"its history does not replay on build {upgrade.to_build}: {head}; "
                          f"'sagaflow upgrade {upgrade.run_id} --force' moves it anyway "
                          "(it then blocks until compatible code serves it)")


async def upgrade(
    client: Client, home: Home, settings: Settings, run_ids: Sequence[str] = (), *,
    skill: str | None = None, force: bool = False,
    notice: Callable[[str], None] = lambda _msg: None,
) -> list[Upgrade]:
    """Move open runs to the working directory's current build; one :class:`Upgrade` per run.

    The build is snapshotted, its worker started if none is alive and it is made
    current, as ``launch`` does. Each run that is open, pinned elsewhere and whose
    history replays on the build's snapshot without a nondeterminism error is
    re-pinned (:func:`~sagaflow._engine.versioning.move_run`); it continues on
    the new code from its next workflow task.

    Args:
        run_ids: The runs to move (in this order), or none with ``skill``.
        skill: Move every open run of this skill (of this home's task queue).
        force: Skip the replay check.
        notice: Told when a worker was started.

    Returns:
        One verdict per run; empty when ``skill`` has no open runs.

    Raises:
        UsageError: Neither or both of ``run_ids`` and ``skill``.
        RunNotFoundError: A named run does not exist (nothing is moved).
        UnknownSkillError, SkillLoadError: ``skill`` is not in the build (nothing is moved).
        BuildError: The build's snapshot cannot be written or is damaged.
        WorkerError: The build's worker would not start.
        TemporalError: Temporal refused a move.
    """
    if bool(run_ids) == (skill is not None):
        raise UsageError("Name the runs to upgrade (sagaflow upgrade RUN...) or one skill "
                         "(--skill SKILL), not both.")
    sources, _ = discover()
    build = await asyncio.to_thread(builds.make, home, sources)
    build = builds.open_build(home, build.id)  # a snapshot damaged by hand: say so now
    loaded = build_skills(build)
    if skill is not None:
        replaycheck.skill_loaded(loaded, skill)
        run_ids = await _skill_runs(client, settings, skill)
        if not run_ids:
            return []
    descs = await _describe_all(client, list(dict.fromkeys(run_ids)))
    verdicts: list[Upgrade] = []
    pending: list[Upgrade] = []
    for desc in descs:
        ruled = _rule(desc, settings, build.id, loaded)
        if ruled is None:
            ruled = Upgrade(desc.id, _skill_of(desc), FORCED if force else MOVED,
                            versioning.build_of(desc, settings.task_queue), build.id)
            pending.append(ruled)
        verdicts.append(ruled)
    if pending and not force:
        await _replay(client, home, settings, loaded, pending)
    moving = [u for u in pending if u.action != REFUSED]
    if moving:
        await asyncio.to_thread(daemon.serve_build, home, settings, notice=notice, build=build)
        await versioning.make_current(client, home, settings.task_queue, build.id)
        for u in moving:
            await versioning.move_run(client, u.run_id, settings.task_queue, build.id)
    return verdicts
