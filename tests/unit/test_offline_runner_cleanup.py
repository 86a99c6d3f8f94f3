"""Ctrl-C (or a missing test server) while ``sagaflow test`` starts its server leaves no
``sagaflow-test-*`` directory behind."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from sagaflow._engine import testkit
from sagaflow.authoring.runner import OfflineRunner
from sagaflow.skills.discovery import LoadedSkills


@pytest.mark.parametrize("error", [KeyboardInterrupt(), testkit.TestServerError("no server.")])
def test_a_start_that_fails_removes_its_scratch_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    async def broken(*_: object) -> None:
        raise error

    monkeypatch.setattr(testkit, "start_environment", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def use() -> None:
        async with OfflineRunner(LoadedSkills.__new__(LoadedSkills)):
            raise AssertionError("the environment did not start")

    with pytest.raises(type(error)):
        asyncio.run(use())
    assert list(tmp_path.iterdir()) == []
