"""Launches of one explicit id take turns on a lock file; the files stay bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
