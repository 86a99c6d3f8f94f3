"""Finding skills on disk and importing them under the ``skills.*`` namespace.

Search order, highest precedence first:

1. ``.claude/skills/`` of the project: from the working directory up to the
   repository root (the first directory holding ``.git``), nearest first;
2. ``$CLAUDE_CONFIG_DIR/skills/`` or ``~/.claude/skills/``;
3. each entry of ``$SAGAFLOW_SKILLS_PATH`` (``os.pathsep``-separated);
4. the skills bundled with sagaflow.

A directory with ``SKILL.md`` and no ``__init__.py`` is a skill of kind ``skillmd``
(Claude Code's format, :mod:`sagaflow.agent.skillmd`): it is not imported, it is
registered to run on the built-in agent loop (:mod:`sagaflow.agent.loop`).

A skill directory ``hello-world/`` with an ``__init__.py`` imports as
``skills.hello_world``. One :class:`SkillsFinder` on ``sys.meta_path`` owns the
whole ``skills`` namespace and resolves each name by that precedence, so a user
copy shadows a bundled one, and Temporal's sandbox (which re-imports workflow
modules on every run) finds the same files.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import sagaflow
from sagaflow.errors import SkillLoadError
from sagaflow.paths import claude_dir
from sagaflow.agent import KIND, SKILL_FILE
from sagaflow.skills import naming, validation
from sagaflow.skills.unsupported import install_unsupported_finder
from sagaflow.skills.registry import SkillRegistry

NAMESPACE = "skills"


@dataclass(frozen=True)
class SkillSource:
    """A skill directory found on the search path."""

    dir: Path
    origin: str  # project | user | path | bundled
    kind: str = "python"  # python | skillmd

    @property
    def module(self) -> str:
        return f"{NAMESPACE}.{self.dir.name.replace('-', '_')}"


def bundled_skills_dir() -> Path:
    """Bundled skills: the wheel's copy, else the source checkout's ``skills/``."""
    package = Path(sagaflow.__file__).resolve().parent
    wheel = package / "_bundled" / "skills"
    return wheel if wheel.is_dir() else package.parent / "skills"


def search_roots(cwd: Path | None = None, *,
                 planned: Path | None = None) -> list[tuple[str, Path]]:
    """The skill search path as ``(origin, directory)`` pairs, best first.

    ``planned`` is a directory about to be created (``sagaflow new --dir .claude/skills``
    in a project that has none yet): it is placed as if it existed.
    """
    roots: list[tuple[str, Path]] = []
    here = (cwd or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / ".claude" / "skills"
        if candidate.is_dir() or candidate == planned:
            roots.append(("project", candidate))
        if (directory / ".git").exists():
            break
    roots.append(("user", claude_dir() / "skills"))
    for entry in os.environ.get("SAGAFLOW_SKILLS_PATH", "").split(os.pathsep):
        if entry.strip():
            roots.append(("path", Path(entry).expanduser()))
    roots.append(("bundled", bundled_skills_dir()))
    return roots


@dataclass
class Discovery:
    """Skill directories on the search path, sorted by what happens to them."""

    active: list[SkillSource] = field(default_factory=list)
    shadowed: list[SkillSource] = field(default_factory=list)
    #: refused by the naming rules (:mod:`sagaflow.skills.naming`), with the reason
    refused: list[tuple[SkillSource, str]] = field(default_factory=list)


def discover_all(cwd: Path | None = None) -> Discovery:
    """Skill directories (Python and SKILL.md) on the search path, the naming rules applied.

    A refused directory still takes its module name, so a lower-precedence skill
    of that name is shadowed rather than silently served in its place.
    """
    found = Discovery()
    taken: set[str] = set()
    for origin, root in search_roots(cwd):
        try:
            children = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            continue
        kinds: dict[Path, str] = {}
        for child in children:
            if child.name.startswith((".", "_")):
                continue
            if (child / "__init__.py").is_file():
                kinds[child] = "python"
            elif (child / SKILL_FILE).is_file():
                kinds[child] = KIND  # its name rules are SKILL.md's (sagaflow.agent.skillmd)
        by_module: dict[str, list[Path]] = {}
        for child, kind in kinds.items():
            problem = naming.name_problem(child) if kind == "python" else None
            if problem is not None:
                found.refused.append((SkillSource(child, origin), problem))
                continue
            by_module.setdefault(naming.module_part(child.name), []).append(child)
        for part, dirs in by_module.items():
            module = f"{NAMESPACE}.{part}"
            if module in taken:
                found.shadowed.extend(SkillSource(d.resolve(), origin, kinds[d]) for d in dirs)
                continue
            taken.add(module)
            if len(dirs) > 1:
                found.refused.extend(
                    (SkillSource(d, origin, kinds[d]), naming.collision_problem(d, dirs))
                    for d in dirs)
                continue
            found.active.append(SkillSource(dirs[0].resolve(), origin, kinds[dirs[0]]))
    return found


def discover(cwd: Path | None = None) -> tuple[list[SkillSource], list[SkillSource]]:
    """Skill directories on the search path (see :func:`discover_all`).

    Returns:
        ``(active, shadowed)``: the winning source per module name, and the
        lower-precedence sources it hides.
    """
    found = discover_all(cwd)
    return found.active, found.shadowed


class SkillsFinder:
    """Resolves ``skills`` and ``skills.<name>`` to the chosen directories.

    A meta path finder by protocol (``find_spec``), not by subclassing
    ``importlib.abc.MetaPathFinder``: that module imports ``importlib.resources``
    (about 1 ms of every launch).
    """

    def __init__(self) -> None:
        self.locations: dict[str, Path] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == NAMESPACE:
            spec = importlib.machinery.ModuleSpec(NAMESPACE, None, is_package=True)
            spec.submodule_search_locations = []
            return spec
        if fullname.count(".") != 1 or not fullname.startswith(NAMESPACE + "."):
            return None
        directory = self.locations.get(fullname)
        if directory is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname,
            directory / "__init__.py",
            submodule_search_locations=[str(directory)],
        )


_FINDER = SkillsFinder()


def install_finder(sources: Sequence[SkillSource]) -> SkillsFinder:
    """Point the ``skills.*`` namespace at ``sources`` (idempotent)."""
    _FINDER.locations = {s.module: s.dir for s in sources if s.kind == "python"}
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    install_unsupported_finder()  # sagaflow 0.10 internals: one clear line, not "No module"
    for name in [m for m in sys.modules if m == NAMESPACE or m.startswith(NAMESPACE + ".")]:
        del sys.modules[name]
    return _FINDER


@dataclass
class SkillInfo:
    """What ``sagaflow skills`` reports about one skill directory."""

    name: str
    dir: Path
    origin: str
    status: str  # ok | error | shadowed
    error: str | None = None
    workflow: str | None = None
    module: str = ""
    kind: str = "python"
    description: str = ""


@dataclass
class LoadedSkills:
    """The outcome of loading every discoverable skill."""

    registry: SkillRegistry
    infos: list[SkillInfo] = field(default_factory=list)
    sources: list[SkillSource] = field(default_factory=list)

    def dir_of(self, skill: str) -> Path | None:
        for info in self.infos:
            if info.name == skill and info.status == "ok":
                return info.dir
        return None


def _describe_failure(source: SkillSource, exc: BaseException) -> str:
    if isinstance(exc, ImportError):  # every unsatisfied import at once, not just the first
        from sagaflow.skills.imports import explain

        listed = explain(source.dir, source.module)
        if listed:
            return listed
    if isinstance(exc, SyntaxError):
        where = f"{Path(exc.filename or '?').name}:{exc.lineno}"
        return f"Skill {source.dir} has a syntax error at {where} ({exc.msg}); fix that file."
    if isinstance(exc, SkillLoadError):
        return f"Skill {source.dir} could not register: {exc.message}"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if str(source.dir) in f.filename]
    where = f" at {Path(own[-1].filename).name}:{own[-1].lineno}" if own else ""
    return (
        f"Skill {source.dir} failed to load{where}: {type(exc).__name__}: {exc}; "
        "fix the skill or move it out of the search path."
    )


def _import_skill(loaded: LoadedSkills, source: SkillSource,
                  cache: validation.ValidationCache) -> None:
    """Import one skill directory, call its ``register`` and validate its workflows in
    the workflow sandbox; a failure becomes an info."""
    if source.kind == KIND:
        _load_skillmd(loaded, source)
        return
    before = set(loaded.registry.names())
    try:
        module = importlib.import_module(source.module)
        register = getattr(module, "register", None)
        if not callable(register):
            raise SkillLoadError("its __init__.py defines no register(registry) function")
        register(loaded.registry)
    except Exception as exc:
        loaded.registry.discard(set(loaded.registry.names()) - before)
        for name in [m for m in sys.modules if m == source.module or m.startswith(source.module + ".")]:
            del sys.modules[name]
        loaded.infos.append(
            SkillInfo(
                source.dir.name, source.dir, source.origin, "error",
                _describe_failure(source, exc), module=source.module,
            )
        )
        return
    for name in [n for n in loaded.registry.names() if n not in before]:
        spec = loaded.registry.get(name)
        problem = spec and validation.validate(spec.workflow_cls, source.dir, cache)
        if spec is not None and problem:
            loaded.registry.discard({name})
            loaded.infos.append(SkillInfo(
                name, source.dir, source.origin, "error",
                f"Skill {name} would stop the worker from starting: its workflow "
                f"{spec.workflow_name} fails Temporal's workflow sandbox ({problem}); move that "
                "code into an activity or a function the workflow calls, then check with "
                f"'sagaflow skills {name}'.",
                workflow=spec.workflow_name, module=source.module,
            ))
            continue
        loaded.infos.append(
            SkillInfo(
                name, source.dir, source.origin, "ok",
                workflow=spec.workflow_name if spec else None, module=source.module,
                description=spec.description if spec else "",
            )
        )


def _load_skillmd(loaded: LoadedSkills, source: SkillSource) -> None:
    """Validate a SKILL.md directory and register it to run on the agent loop."""
    # imported here: the SKILL.md spec and the agent's input types cost about 5 ms,
    # which a launch of a Python skill does not need
    from sagaflow.skills.skillmd_spec import skillmd_spec

    try:
        spec = skillmd_spec(source.dir)
        loaded.registry.register(spec)
    except SkillLoadError as exc:
        loaded.infos.append(SkillInfo(
            source.dir.name, source.dir, source.origin, "error", exc.message,
            module=source.module, kind=KIND,
        ))
        return
    loaded.infos.append(SkillInfo(
        spec.name, source.dir, source.origin, "ok", workflow=spec.workflow_name,
        module=source.module, kind=KIND, description=spec.description,
    ))


def load_skills(
    cwd: Path | None = None, *, only: str | None = None,
    found: tuple[list[SkillSource], list[SkillSource]] | None = None,
) -> LoadedSkills:
    """Import the active skills and call each one's ``register(registry)``.

    A skill that fails is recorded with its error; the others still load. A skill
    fails when its directory breaks a naming rule (:mod:`sagaflow.skills.naming`),
    its import or ``register`` raises, or its workflow fails the workflow
    sandbox's validation (:mod:`sagaflow.skills.validation`, cached per content).

    Args:
        only: the one skill a caller needs (``launch``): import just the
            directory named after it (``hello-world/`` for ``hello-world``).
            When that directory does not register ``only`` cleanly, every skill
            is loaded as without ``only``, so errors and near-match hints are
            complete. ``sources`` always lists every active skill (the worker
            fingerprint covers them all).
        found: ``(active, shadowed)`` sources to load instead of :func:`discover`'s
            (a build's worker loads its snapshot: :mod:`sagaflow.skills.builds`).
    """
    refused: list[tuple[SkillSource, str]] = []
    if found is None:
        listed = discover_all(cwd)
        found, refused = (listed.active, listed.shadowed), list(listed.refused)
    active, shadowed = found
    install_finder(active)
    cache = validation.ValidationCache.for_home()
    try:
        if only is not None:
            wanted = f"{NAMESPACE}.{only.replace('-', '_')}"
            match = [s for s in active if s.module == wanted]
            if match:
                loaded = LoadedSkills(SkillRegistry(), sources=active)
                _import_skill(loaded, match[0], cache)
                if loaded.registry.get(only) is not None:
                    return loaded
                install_finder(active)  # start the full load from a clean namespace
        loaded = LoadedSkills(SkillRegistry(), sources=active)
        for source in active:
            _import_skill(loaded, source, cache)
    finally:
        cache.save()
    for source, problem in refused:
        loaded.infos.append(SkillInfo(source.dir.name, source.dir, source.origin, "error",
                                      problem, module=source.module))
    for source in shadowed:
        loaded.infos.append(
            SkillInfo(source.dir.name, source.dir, source.origin, "shadowed", module=source.module)
        )
    if shadowed and any(info.status == "error" for info in loaded.infos):
        from sagaflow.skills.imports import name_hidden_working_skills

        name_hidden_working_skills(loaded.infos, shadowed, _FINDER)
    return loaded


def fingerprint(sources: Sequence[SkillSource]) -> str:
    """A hash of every file of every active skill (path, size, mtime)."""
    digest = hashlib.sha256()
    for source in sorted(sources, key=lambda s: s.module):
        digest.update(f"{source.module}={source.dir}\n".encode())
        for dirpath, dirnames, filenames in os.walk(source.dir):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = Path(dirpath, name)
                try:
                    st = path.stat()
                except OSError:
                    continue
                digest.update(f"{path}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
