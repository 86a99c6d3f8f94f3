"""Fixtures for in-process engine tests.

* ``engine``: an in-process Temporal and a sagaflow worker over the test skills
  (see harness.py);
* ``home``: an isolated sagaflow home and user dir, for tests that build their own worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import engine

from sagaflow.paths import Home

__all__ = ["engine", "home"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """A fresh sagaflow home; HOME points at an empty user dir so only bundled skills load."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAGAFLOW_NO_NOTIFY", "1")
    for name in ("SAGAFLOW_SKILLS_PATH", "CLAUDE_CONFIG_DIR", "SAGAFLOW_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    home = Home(tmp_path / "home")
    home.ensure(home.runs)
    return home
