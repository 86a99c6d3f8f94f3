"""Launching a skill: validate, record, start (or attach), await.

Everything that can be checked locally (skill exists, arguments, prompts,
model transport) is checked before anything is started or written, so a bad
launch leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.config import Settings
from sagaflow.skills.args import EXTRA, TrackingArgs, skill_view
from sagaflow.skills.discovery import LoadedSkills
from sagaflow.errors import (
    HomeError,
    PromptError,
    SagaflowError,
    SkillArgumentError,
    SkillLoadError,
    TransportError,
    UnknownSkillError,
)
from sagaflow.models import choose_transport, preflight
from sagaflow.paths import Home
from sagaflow.skills.registry import SkillSpec
from sagaflow.runrecord import RunRecord, check_run_id, new_run_id, read_record, write_record
from sagaflow.timestamps import now_iso


def find_skill(loaded: LoadedSkills, name: str) -> SkillSpec:
    """The registered skill, or a clear error naming near matches."""
    spec = loaded.registry.get(name)
    if spec is not None:
        return spec
    for info in loaded.infos:
        if name in (info.name, info.dir.name) and info.status == "error":
            raise SkillLoadError(info.error or f"Skill {name} failed to load.")
    names = loaded.registry.names()
    import difflib  # only when the name is wrong

    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    listing = ", ".join(names) or "none"
    raise UnknownSkillError(
        f"Unknown skill {name!r}; {hint}available: {listing}. Run 'sagaflow skills' for details."
    )


def _declared(spec: SkillSpec) -> tuple[set[str], set[str]] | None:
    if spec.arguments is None:
        return None
    names = {a.rstrip("!").replace("-", "_") for a in spec.arguments}
    required = {a.rstrip("!").replace("-", "_") for a in spec.arguments if a.endswith("!")}
    return names, required


def _no_free_text(skill: str, args: Mapping[str, str], known: set[str]) -> SkillArgumentError:
    words = " ".join(skill_view(args)[EXTRA])
    return SkillArgumentError(
        f"Skill {skill} takes no free text (got {words!r}); give its arguments as "
        f"{_flags(known - {EXTRA})}."
    )


def _flags(names: set[str] | list[str]) -> str:
    return ", ".join(f"--{n.replace('_', '-')}" for n in sorted(names)) or "no arguments"


@dataclass
class Prepared:
    """A validated launch, ready to hand to Temporal."""

    spec: SkillSpec
    run_id: str
    record: RunRecord
    workflow_input: Any
    attach: bool = False
    #: this launch created the run directory (a failed start removes it again)
    created: bool = False
    #: the arguments this launch was given (``record.args`` are the run's own, which
    #: differ when it attaches to an existing run)
    requested_args: dict[str, str] = field(default_factory=dict)
    #: the ``--transport`` this launch was given (None: the default); a suggested
    #: relaunch repeats it
    requested_transport: str | None = None


def prepare(
    home: Home,
    settings: Settings,
    loaded: LoadedSkills,
    skill: str,
    args: dict[str, str],
    *,
    run_id: str | None = None,
    transport: str | None = None,
    replace_existing: bool = False,
    task_queue: str | None = None,
    check_transport: bool = True,
) -> Prepared:
    """Validate a launch and write its ``run.json`` (nothing else is written).

    When ``run_id`` names a run this home launched before, the launch attaches
    to it instead and its arguments are not rebuilt — unless ``replace_existing``
    (``--if-exists replace``), which builds a fresh record in the same directory.
    ``check_transport=False`` skips the transport's preflight (``sagaflow test``
    supplies the scripted replies itself, possibly not from the skill's replies.yaml).
    """
    spec = find_skill(loaded, skill)
    skill_dir = loaded.dir_of(skill)
    if run_id is not None:
        check_run_id(run_id)
        existing = read_record(home, run_id)
        if existing is not None and not replace_existing:
            if existing.skill != skill:
                raise SkillArgumentError(
                    f"Run {run_id} belongs to skill {existing.skill}, not {skill}; "
                    "pick another --id."
                )
            return Prepared(spec, run_id, existing, None, attach=True, requested_args=dict(args),
                            requested_transport=transport)
    declared = _declared(spec)
    if declared is not None:
        names, required = declared
        unknown = set(args) - names
        missing = required - set(args)
        if EXTRA in unknown:
            raise _no_free_text(skill, args, names)
        if unknown:
            raise SkillArgumentError(_unknown_message(skill, unknown, names, args.get(EXTRA, "")))
        if missing:
            raise SkillArgumentError(f"Skill {skill} needs {_flags(missing)}.")
    run_id, created = _claim_run_dir(home, skill, run_id)
    run_dir = home.run_dir(run_id)
    tracked = TrackingArgs(skill_view(args))
    try:
        workflow_input = _build(spec, tracked, run_id, run_dir, home)
        if declared is None and not tracked.took_all:
            unknown = set(args) - tracked.asked
            if EXTRA in unknown:
                raise _no_free_text(skill, args, tracked.asked)
            if unknown:
                raise SkillArgumentError(_unknown_message(skill, unknown, tracked.asked, args.get(EXTRA, "")))
        chosen = _transport(spec, settings, transport, skill_dir, check=check_transport)
        record = RunRecord(
            run_id=run_id, skill=skill, skill_dir=str(skill_dir or ""), args=dict(args),
            transport=chosen, task_queue=task_queue or settings.task_queue,
            created=now_iso(),
        )
        write_record(home, record)
    except BaseException:
        if created:
            import shutil  # only when preparing failed

            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return Prepared(
        spec, run_id, record, workflow_input, created=created, requested_args=dict(args),
        requested_transport=transport,
    )


def _transport(
    spec: SkillSpec, settings: Settings, requested: str | None, skill_dir: Path | None,
    *, check: bool = True,
) -> str:
    """The transport a run records: checked for skills that call a model (the default).

    A skill with ``uses_model=False`` needs none: an unusable or missing transport is
    not checked, and when ``auto`` finds none the run records ``auto``, which makes
    a model call fail at once with the fix (the worker refuses an unresolved ``auto``).
    """
    if spec.uses_model:
        chosen = choose_transport(settings, requested)
        if check:
            preflight(chosen, skill_dir)
        return chosen
    try:
        return choose_transport(settings, requested)
    except TransportError:
        if (requested or settings.transport or "auto").lower() != "auto":
            raise  # an unknown --transport name is still a mistake
        return "auto"


def _claim_run_dir(home: Home, skill: str, run_id: str | None) -> tuple[str, bool]:
    """Create the run directory; a generated id is retried until it is new."""
    home.ensure(home.runs)
    if run_id is not None:
        path = home.run_dir(run_id)
        created = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
        return run_id, created
    for _ in range(20):
        candidate = new_run_id(skill)
        try:
            home.run_dir(candidate).mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        return candidate, True
    raise HomeError(f"Could not allocate a new run id under {home.runs}; check that directory.")


def _unknown_message(skill: str, unknown: set[str], known: set[str], free: str = "") -> str:
    if EXTRA in unknown:
        return (
            f"Unexpected argument {free!r}: skill {skill} takes no free text; skill arguments "
            "look like --key value or --arg key=value."
        )
    first = sorted(unknown)[0]
    import difflib  # only when an argument is wrong

    near = difflib.get_close_matches(first, sorted(known), n=1)
    hint = f" (did you mean --{near[0].replace('_', '-')}?)" if near else ""
    return (
        f"Unknown argument {_flags(unknown)} for skill {skill}{hint}; "
        f"it accepts {_flags(known)}."
    )


def _build(spec: SkillSpec, args: TrackingArgs, run_id: str, run_dir: Path, home: Home) -> Any:
    if spec.build_input is None:
        return dict(args)
    try:
        return spec.build_input(
            run_id=run_id, run_dir=str(run_dir), inbox_path=str(home.inbox), cli_args=args
        )
    except KeyError as exc:
        key = str(exc.args[0]) if exc.args else "?"
        if key in args.missing:
            raise SkillArgumentError(
                f"Skill {spec.name} needs --{key.replace('_', '-')}; "
                f"pass it as --{key.replace('_', '-')} VALUE."
            ) from None
        raise SkillLoadError(f"Skill {spec.name} failed to build its input: KeyError {exc}.") from None
    except (PromptError, SagaflowError):
        raise
    except Exception as exc:
        raise SkillLoadError(
            f"Skill {spec.name} failed to build its input: {type(exc).__name__}: {exc}; "
            "check its arguments or fix its build_input."
        ) from None
