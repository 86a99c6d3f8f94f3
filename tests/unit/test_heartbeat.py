"""Model steps heartbeat on a timer, never at their start (each beat is a server write)."""

from __future__ import annotations

import asyncio

import pytest

from sagaflow._engine import activities


@pytest.mark.parametrize(("lasting", "beats"), [(0.05, range(0, 1)), (0.5, range(1, 3))])
def test_first_beat_comes_after_one_interval(
    monkeypatch: pytest.MonkeyPatch, lasting: float, beats: range
) -> None:
    sent: list[float] = []

    async def step() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        monkeypatch.setattr(activities.activity, "heartbeat", lambda: sent.append(loop.time() - started))
        beat = asyncio.create_task(activities._heartbeat_forever(0.2))
        await asyncio.sleep(lasting)
        beat.cancel()

    asyncio.run(step())
    assert len(sent) in beats, sent  # a quick call sends none; then one per interval
    assert all(at >= 0.2 * (i + 1) - 0.01 for i, at in enumerate(sent)), sent
