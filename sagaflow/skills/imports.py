"""Why a skill cannot load: every missing import at once, and what a broken skill hides.

* :func:`missing_imports`: an ``ast`` pass over a skill's package (nothing executed) that
  lists every import that cannot be satisfied: absent modules, names a ``sagaflow``
  module does not define (sagaflow 0.10 internals named, see
  :mod:`sagaflow.skills.unsupported`), third-party packages not installed. Python stops
  at the first failing import; this reports them all, so one edit fixes a skill.
* :func:`name_hidden_working_skills`: a broken skill that shadows a working one of the
  same name says so.

Imported only when a skill failed to load.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from sagaflow.skills.unsupported import HOW, feature_of

if TYPE_CHECKING:
    from sagaflow.skills.discovery import SkillInfo, SkillSource, SkillsFinder


@dataclass(frozen=True)
class Missing:
    """One import that cannot be satisfied: ``what`` (dotted), where, and why."""

    what: str
    file: str
    line: int
    why: str

    def describe(self) -> str:
        return f"{self.what} at {self.file}:{self.line} ({self.why})"


def _package_files(skill_dir: Path) -> list[Path]:
    """The skill package's modules: its directory and the subpackages with ``__init__.py``."""
    files = []
    for path in sorted(skill_dir.rglob("*.py")):
        parents = path.relative_to(skill_dir).parents
        if "__pycache__" in path.parts:
            continue
        if all((skill_dir / p / "__init__.py").is_file() for p in parents if str(p) != "."):
            files.append(path)
    return files


def _own_module(skill_dir: Path, package: str, module: str) -> bool | None:
    """Whether ``module`` inside the skill's own package exists (None: not ours)."""
    if module != package and not module.startswith(package + "."):
        return None
    rel = Path(*module.split(".")[len(package.split(".")):])
    base = skill_dir / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or module == package


def _module_problem(module: str, skill_dir: Path, package: str) -> str | None:
    own = _own_module(skill_dir, package, module)
    if own is not None:
        return None if own else "no such module in the skill"
    if module.startswith("skills."):  # another skill: the skills.* finder knows it
        return None if importlib.util.find_spec(".".join(module.split(".")[:2])) else (
            "no such skill on the search path")
    if module == "sagaflow" or module.startswith("sagaflow."):
        try:
            importlib.import_module(module)
        except ImportError:
            return feature_of(module)
        return None
    try:  # third party: the top-level package only (nothing of it is executed)
        found = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        found = None
    return None if found else "not installed"


def _name_problem(module: str, name: str) -> str | None:
    """A name imported from a sagaflow module that lacks it (others are not checked)."""
    if not (module == "sagaflow" or module.startswith("sagaflow.")) or name == "*":
        return None
    mod = sys.modules.get(module)
    if mod is None or hasattr(mod, name):
        return None
    try:
        importlib.import_module(f"{module}.{name}")
    except ImportError:
        return feature_of(f"{module}.{name}") if module == "sagaflow" else (
            f"{module} has no {name} in this sagaflow")
    return None


def missing_imports(skill_dir: Path, package: str) -> list[Missing]:
    """Every unsatisfiable import in the skill package at ``skill_dir`` (importable as
    ``package``, e.g. ``skills.deep_qa``), in file and line order. Reads the source with
    ``ast``; imports ``sagaflow`` modules (to check their names) and nothing of the skill.
    """
    import ast  # only when a skill failed to load: not on every launch's import path

    found: list[Missing] = []
    seen: set[str] = set()
    for path in _package_files(skill_dir):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue
        rel = path.relative_to(skill_dir).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        here = ".".join([package, *parts])
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            wanted: list[tuple[str, str | None]] = []
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Import):
                wanted = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here if is_pkg else here.rpartition(".")[0]
                for _ in range(max(node.level - 1, 0)):
                    base = base.rpartition(".")[0]
                module = (f"{base}.{node.module}" if node.module else base) if node.level else (
                    node.module or "")
                wanted = [(module, alias.name) for alias in node.names]
            for module, name in wanted:
                why = _module_problem(module, skill_dir, package)
                what = module
                if why is None and name is not None:
                    why, what = _name_problem(module, name), f"{module}.{name}"
                if why is not None and what not in seen:
                    seen.add(what)
                    found.append(Missing(what, path.name, line, why))
    return found


def explain(skill_dir: Path, package: str) -> str | None:
    """The one-line report of :func:`missing_imports`, or None when it finds nothing."""
    missing = missing_imports(skill_dir, package)
    if not missing:
        return None
    listed = "; ".join(m.describe() for m in missing)
    noun = "1 import is" if len(missing) == 1 else f"{len(missing)} imports are"
    return (
        f"Skill {skill_dir} cannot load: {noun} not available: {listed}. "
        "Install missing packages; for sagaflow 0.10 internals, " + HOW + "."
    )


def name_hidden_working_skills(
    infos: Sequence[SkillInfo], shadowed: Sequence[SkillSource], finder: SkillsFinder
) -> None:
    """A broken skill that hides a working lower-precedence one of the same name says so
    in its error (the working one is imported to check, then forgotten again)."""
    for info in infos:
        if info.status != "error":
            continue
        for hidden in (s for s in shadowed if s.module == info.module):
            if _loads_cleanly(hidden, finder):
                info.error = (
                    f"{info.error} It hides the working {hidden.origin} skill of the same name "
                    f"at {hidden.dir}: fix {info.dir} or remove it to use that one."
                )
                break


def _purge(module: str) -> None:
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        del sys.modules[name]


def _loads_cleanly(source: SkillSource, finder: SkillsFinder) -> bool:
    from sagaflow.skills.registry import SkillRegistry

    saved = dict(finder.locations)
    finder.locations[source.module] = source.dir
    _purge(source.module)
    try:
        module = importlib.import_module(source.module)
        registry = SkillRegistry()
        module.register(registry)
        return len(registry) > 0
    except Exception:
        return False
    finally:
        _purge(source.module)
        finder.locations = saved
