"""Benchmark ``sagaflow upgrade --skill`` over N compatible open runs (default 20).

Starts its own Temporal dev server and fake Anthropic API (scripts/bench_env.py) and
stops everything it started. Prints one JSON object; progress goes to stderr.

    python scripts/bench_upgrade.py [--runs N]

N runs of the ``gated`` test skill park at their approval gate; the code after the
gate is then edited (a compatible change) and the whole CLI call is timed:

- ``new_build_s``: ``upgrade --skill gated`` to the edited build (snapshot, a new build
  worker, version made current, every history fetched and replayed, N moves);
- ``warm_build_s``: the edit reverted and ``upgrade --skill gated`` again, back to the
  original build, whose worker is still alive.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from bench_env import SAGAFLOW, Env, Sandbox, log, timed

REPO = Path(__file__).resolve().parent.parent
AFTER_GATE = ('summary = f"published:', 'summary = f"edited published:')


def _parked(box: Sandbox, n: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = timed([*SAGAFLOW, "list", "--json"], box.env, box.work)
        rows = json.loads(listed.out or "[]") if listed.code == 0 else []
        if sum(1 for r in rows if r.get("waiting")) >= n:
            return
        time.sleep(1)
    raise RuntimeError(f"{n} runs did not reach their gate")


def _upgrade(box: Sandbox, n: int) -> float:
    result = timed([*SAGAFLOW, "upgrade", "--skill", "gated"], box.env, box.work, timeout=600)
    moved = [line for line in result.out.splitlines() if ": moved from build " in line]
    if result.code != 0 or len(moved) != n:
        raise RuntimeError(f"upgrade failed ({result.code}): {(result.out + result.err)[-400:]}")
    return result.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    env = Env()
    try:
        env.start_server()
        env.start_fake()
        box = env.sandbox("upgrade")
        skill = Path(box.env["HOME"]) / ".claude" / "skills" / "gated"
        shutil.copytree(REPO / "tests" / "skills" / "gated", skill)
        for i in range(opts.runs):
            launched = timed([*SAGAFLOW, "launch", "gated", "--id", f"up-{i}"], box.env, box.work)
            if launched.code != 0:
                raise RuntimeError(f"launch failed: {launched.err.strip()[-300:]}")
        _parked(box, opts.runs)
        source = skill / "workflow.py"
        original = source.read_text()
        source.write_text(original.replace(*AFTER_GATE))
        new = _upgrade(box, opts.runs)
        log(f"upgrade of {opts.runs} runs to a new build: {new:.2f}s")
        source.write_text(original)
        warm = _upgrade(box, opts.runs)
        log(f"upgrade of {opts.runs} runs back to a warm build: {warm:.2f}s")
    finally:
        env.close()
    print(json.dumps({"runs": opts.runs, "new_build_s": round(new, 2),
                      "warm_build_s": round(warm, 2),
                      "per_run_ms_warm": round(1000 * warm / opts.runs)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
