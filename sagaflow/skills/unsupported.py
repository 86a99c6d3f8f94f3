"""sagaflow 0.10 internals a skill may import, refused with one line naming them.

:class:`UnsupportedFinder` sits last on ``sys.meta_path`` (installed with the ``skills.*``
finder): a ``sagaflow.<name>`` module this sagaflow does not have (skills written for the
published sagaflow 0.10 import some of its internals: the RLM runner, the MCP registry,
the ``@skill`` decorator...) raises :class:`UnsupportedImportError` at import. Kept apart
from :mod:`sagaflow.skills.imports` (the diagnostics, needed only when a skill fails to
load) so every launch imports only this.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from sagaflow.errors import SkillLoadError

if TYPE_CHECKING:  # the type ModuleSpec asks for; at run time any object with the methods
    from importlib.abc import Loader as _LoaderBase
else:
    _LoaderBase = object

#: sagaflow 0.10 internals with a known purpose; other absent ``sagaflow.*`` get a generic line
FEATURES = {
    "sagaflow.rlm": "sagaflow 0.10's RLM runner",
    "sagaflow.transport.mcp_registry": "sagaflow 0.10's MCP registry (MCP servers)",
    "sagaflow.transport": "sagaflow 0.10's model transports",
    "sagaflow.skill": "sagaflow 0.10's @skill decorator",
    "sagaflow.simple": "sagaflow 0.10's @skill decorator",
    "sagaflow.memory": "sagaflow 0.10's working memory",
    "sagaflow.missions": "sagaflow 0.10's missions",
    "sagaflow.budget": "sagaflow 0.10's budget enforcer (use launch --budget-usd)",
    "sagaflow.run_manifest": "sagaflow 0.10's manifest module (use the finalize_manifest activity)",
    "sagaflow.generic": "sagaflow 0.10's generic agent workflow",
}
HOW = "rewrite that part with sagaflow.workflow's API, or remove it"


def feature_of(module: str) -> str:
    """One phrase naming what an absent ``sagaflow.*`` module was."""
    for prefix in sorted(FEATURES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return f"{FEATURES[prefix]}, which this sagaflow does not support"
    return "a sagaflow 0.10 internal this sagaflow does not provide"


class UnsupportedImportError(SkillLoadError, ModuleNotFoundError):
    """A skill imported a sagaflow 0.10 internal this sagaflow does not provide.

    A :class:`~sagaflow.errors.SkillLoadError` (one line, not retryable) and a
    ``ModuleNotFoundError``, so a skill's ``try: ... except ImportError`` still works.
    Its ``name`` is left unset: ``from sagaflow import skill`` would otherwise swallow
    it and say "cannot import name" instead.
    """

    def __init__(self, module: str) -> None:
        super().__init__(f"{module} is {feature_of(module)}; {HOW}.")


#: absent packages whose submodules mean different features: importing the package itself
#: works (a stub), so the error names the submodule asked for (``...mcp_registry``)
_STUB_PACKAGES = frozenset({"sagaflow.transport"})


class _Refuse(_LoaderBase):
    """The loader of a refused name (a loader by protocol, like :class:`UnsupportedFinder`)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        if spec.name not in _STUB_PACKAGES:
            raise UnsupportedImportError(spec.name)
        stub = ModuleType(spec.name)

        def refuse(attr: str) -> object:
            if attr.startswith("__"):
                raise AttributeError(attr)
            raise UnsupportedImportError(f"{spec.name}.{attr}")

        stub.__getattr__ = refuse  # type: ignore[method-assign]
        return stub

    def exec_module(self, module: ModuleType) -> None:
        pass


class UnsupportedFinder:
    """Answers for ``sagaflow.*`` names no other finder found (it is last on the path).

    A meta path finder by protocol (``find_spec``), not a subclass of
    ``importlib.abc.MetaPathFinder``: that module imports ``importlib.resources`` and
    ``tempfile`` (about 1.5 ms of every launch), and the import system only calls
    ``find_spec``.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("sagaflow.") or fullname.startswith("sagaflow._bundled"):
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _Refuse(), is_package=fullname in _STUB_PACKAGES,
        )


_UNSUPPORTED = UnsupportedFinder()


def install_unsupported_finder() -> None:
    """Put :class:`UnsupportedFinder` last on ``sys.meta_path`` (idempotent)."""
    if _UNSUPPORTED not in sys.meta_path:
        sys.meta_path.append(_UNSUPPORTED)
