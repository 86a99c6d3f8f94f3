"""Launch bookkeeping: explicit ids take turns on bounded lock files; the namespace check
is skipped only when the live worker already serves that namespace."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from sagaflow.paths import Home
from sagaflow.runs.launch import LAUNCH_LOCK_STRIPES, claimed, launch_lock_path


def test_ids_share_a_bounded_set_of_lock_files(tmp_path: Path) -> None:
    home = Home(tmp_path)
    paths = {launch_lock_path(home, f"run-{i}") for i in range(2000)}
    assert len(paths) == LAUNCH_LOCK_STRIPES  # every stripe used, never more files
    assert launch_lock_path(home, "run-7") == launch_lock_path(home, "run-7")  # stable per id
    assert all(p.parent == home.runs and p.name.startswith(".launch-") for p in paths)


def test_claiming_ids_leaves_no_file_per_id(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.ensure(home.runs)

    async def claim_all() -> None:
        for i in range(200):
            async with claimed(home, f"id-{i}"):
                pass

    asyncio.run(claim_all())
    left = sorted(p.name for p in home.runs.iterdir())
    assert len(left) <= LAUNCH_LOCK_STRIPES and not any("id-" in name for name in left)


def test_one_id_is_exclusive(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.ensure(home.runs)
    order: list[str] = []

    async def launch(name: str, hold: float) -> None:
        async with claimed(home, "same"):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both() -> None:
        first = asyncio.ensure_future(launch("a", 0.2))
        await asyncio.sleep(0.05)
        await asyncio.gather(first, launch("b", 0.0))

    asyncio.run(both())
    assert order == ["a in", "a out", "b in", "b out"]


def test_launch_checks_the_namespace_unless_the_live_worker_serves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagaflow._engine import buildstate
    from sagaflow._engine.client import resolve
    from sagaflow.config import Settings
    from sagaflow.runs import launch

    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "none.toml"))
    home = Home(tmp_path / "home")
    here = Settings(address="127.0.0.1:7999", namespace="ns-a", address_from_user=True,
                    namespace_from_user=True)
    elsewhere = dataclasses.replace(here, namespace="ns-b")

    def _worker_serves(settings: Settings) -> bool:
        return launch._worker_serves(home, resolve(settings))

    assert not _worker_serves(here)  # no worker: check
    fd = buildstate.acquire_lock(home, "0123456789abcdef")
    try:
        buildstate.write_state(home, "0123456789abcdef", "fp", here, [])
        assert _worker_serves(here)  # its start checked this namespace: skip the RPC
        assert not _worker_serves(elsewhere)  # another namespace: check first
    finally:
        buildstate.release_lock(fd)
    assert not _worker_serves(here)  # the worker is gone: check
