"""Lazy module attributes (PEP 562), shared by the public modules that re-export names.

``sagaflow``, ``sagaflow.workflow`` and ``sagaflow.durable.activities`` re-export names
whose modules are costly to import (temporalio's workflow side, the 0.10 activities); a
module-level ``__getattr__ = lazy_exports(__name__, {...})`` loads each on first use, so
``import sagaflow.workflow`` in a skill's registration (which every ``sagaflow launch``
imports) pays only for what it touches.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(module: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that loads ``where[name]`` on first use.

    Args:
        module: The re-exporting module's ``__name__``.
        where: Exported name -> ``"pkg.mod"`` (the same name there) or ``"pkg.mod:attr"``
            (another name there, e.g. sagaflow 0.10's ``run_shell_activity``).

    Returns:
        The ``__getattr__`` function; a loaded value is kept in the module's globals,
        so later lookups skip it.

    Raises:
        AttributeError: (from the returned function) for a name ``where`` lacks.
    """

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        path, _, attr = source.partition(":")
        value = getattr(importlib.import_module(path), attr or name)
        setattr(sys.modules[module], name, value)
        return value

    return __getattr__
