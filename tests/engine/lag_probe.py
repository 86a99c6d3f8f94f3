"""Measure the worker's event-loop lag while heavy steps run (run by test_loop_lag.py).

``python lag_probe.py ROOT BASE_URL BIG_BYTES``: an in-process sagaflow worker
(harness.py) on a real dev server, with the worker's start-up warm-up running,
runs one workflow whose steps overlap: a model call through the real anthropic
transport (``BASE_URL``, a fake Messages API; the SDK is imported for the first
time in this process during the run), a model step whose prompt file and reply
are ``BIG_BYTES`` each (read and written by sagaflow), and an artifact write. A
ticker task on the worker's loop records how late each 10 ms sleep wakes up.
Prints one JSON object: ``max_lag`` (seconds), ``attempts`` of the model steps,
``imported_during_run``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

first_import = "anthropic" not in sys.modules


class MixedModel:
    """``complete``: prompts starting with BIG get a ``big``-byte reply after a pause;
    the rest go to the real transport."""

    def __init__(self, big: int) -> None:
        self.big = big

    async def __call__(self, transport: str, *, model: str, system: str, user: str,
                       max_tokens: int, skill_dir: Path | None = None) -> Any:
        from sagaflow.models import ModelReply, complete

        if user.startswith("BIG"):
            await asyncio.sleep(0.5)
            end = "\nSTRUCTURED_OUTPUT_START\nRESULT|big\nSTRUCTURED_OUTPUT_END"
            text = await asyncio.to_thread(lambda: "x" * self.big + end)  # the fake's own work
            return ModelReply(text=text, model=model, transport=transport, usage={})
        return await complete(transport, model=model, system=system, user=user,
                              max_tokens=max_tokens, skill_dir=skill_dir)


async def scenario(engine: Any, run_dir: Path, big: int) -> dict[str, Any]:
    from lag_workflow import LagInput

    from sagaflow._engine.worker import warm_up

    loop = asyncio.get_running_loop()
    lags: list[float] = []
    at: list[float] = []
    began_run = loop.time()

    async def ticker() -> None:
        while True:
            began = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - began - 0.01)
            at.append(round(began - began_run, 3))

    gc.freeze()  # as run_worker does before it polls
    tick = asyncio.create_task(ticker())
    warming = loop.run_in_executor(None, warm_up, True)  # as run_worker does at start
    handle = await engine.start("t-lag", LagInput(
        run_dir=str(run_dir), prompts=[str(run_dir / "small.txt"), str(run_dir / "big.txt")],
        artifact_bytes=1_000_000,
    ))
    await handle.result()
    await warming
    tick.cancel()
    history = await handle.fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    worst = sorted(zip(lags, at, strict=True), reverse=True)[:5]
    return {"max_lag": max(lags), "ticks": len(lags), "worst": worst, "attempts": attempts,
            "imported_during_run": first_import and "anthropic" in sys.modules}


def main() -> None:
    root, url, big = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    from harness import CLEARED, environment, new_engine
    from lag_workflow import LagWorkflow

    from sagaflow.skills.registry import SkillSpec

    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ.update(environment(root))
    os.environ["ANTHROPIC_BASE_URL"] = url
    os.chdir(root)
    engine = new_engine(root)
    engine.loaded.registry.register(SkillSpec(name="t-lag", workflow_cls=LagWorkflow))
    engine.model = MixedModel(big)  # type: ignore[assignment]
    run_dir = root / "lag-run"
    run_dir.mkdir()
    (run_dir / "small.txt").write_text("Say hi", encoding="utf-8")
    (run_dir / "big.txt").write_text("BIG" + "p" * big, encoding="utf-8")
    result = engine.run(lambda e: scenario(e, run_dir, big), time_skipping=False)
    print(json.dumps(result), flush=True)
    os._exit(0)  # temporalio's runtime may abort at interpreter exit (see NOTES)


if __name__ == "__main__":
    main()
