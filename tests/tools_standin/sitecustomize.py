"""Test-only: provide the "tools" helper's contract modules until that branch lands.

On ``PYTHONPATH`` (tests/conftest.py puts this directory there, and on ``sys.path``
for in-process tests) it adds a finder at the END of ``sys.meta_path``: it answers
``sagaflow.agent.tools``, ``sagaflow.agent.tools.activity`` and
``sagaflow.agent.permissions`` only when the real modules are missing, from
``standin_tools.py``. Once the real ones exist, they win and this does nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

NAMES = ("sagaflow.agent.tools", "sagaflow.agent.tools.activity", "sagaflow.agent.permissions")


class _StandinFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname not in NAMES:
            return None
        source = Path(__file__).with_name("standin_tools.py")
        return importlib.util.spec_from_file_location(
            fullname, source, submodule_search_locations=[] if fullname.endswith("tools") else None
        )


def install() -> None:
    if not any(isinstance(f, _StandinFinder) for f in sys.meta_path):
        sys.meta_path.append(_StandinFinder())


install()
