"""Wall time of ``sagaflow test`` for each bundled example skill (issue 12's benchmark).

Each repeat is one ``python -m sagaflow test NAME --json`` process, as an author runs it:
interpreter start, imports, Temporal's in-process time-skipping test server, a worker,
every case of the skill on the scripted transport. Every repeat gets a fresh temporary
HOME and SAGAFLOW_HOME (no server, worker or key is needed, none is started). Prints a
markdown table (``--json`` for JSON) to stdout, progress to stderr; the target (a few
seconds per skill: 5 s) is reported as pass/fail, never asserted.

    python scripts/bench_examples.py [--repeat N] [--only NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = ("critique", "refine", "book-trip")
TARGET_S = 5.0  # "a few seconds each"


def _once(name: str) -> tuple[float, dict[str, Any] | list[Any] | None, str]:
    """One ``sagaflow test NAME --json``: wall seconds, its JSON (None if unreadable), stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-examples-") as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SAGAFLOW_", "TEMPORAL_", "ANTHROPIC_", "CLAUDE_"))}
        env.update(HOME=tmp, SAGAFLOW_HOME=str(Path(tmp) / "home"), SAGAFLOW_NO_HOOK="1",
                   SAGAFLOW_NO_NOTIFY="1")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sagaflow", "test", name, "--json"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    if proc.returncode != 0:
        print(f"  {name}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}", file=sys.stderr)
    return wall, data, proc.stderr


def _cases(data: Any) -> tuple[int, int, float]:
    """(cases, passed, seconds the runner measured itself) from ``sagaflow test --json``."""
    if not isinstance(data, dict):
        return 0, 0, 0.0
    rows = [r for r in data.get("cases", []) if isinstance(r, dict)]
    return len(rows), sum(1 for r in rows if r.get("passed")), float(data.get("seconds", 0.0))


def bench(name: str, repeat: int) -> dict[str, Any]:
    walls: list[float] = []
    inside: list[float] = []
    cases = passed = 0
    for i in range(repeat):
        wall, data, _ = _once(name)
        walls.append(wall)
        cases, passed, seconds = _cases(data)
        inside.append(seconds)
        print(f"  {name} #{i + 1}: {wall:.2f} s, {passed}/{cases} cases passed", file=sys.stderr)
    median = statistics.median(walls)
    return {"skill": name, "cases": cases, "passed": passed, "median_s": round(median, 3),
            "min_s": round(min(walls), 3), "max_s": round(max(walls), 3), "repeat": repeat,
            # the runner's own time (test server, worker, cases): the rest is process start
            "runner_s": round(statistics.median(inside), 3),
            "per_case_s": round(median / cases, 3) if cases else None,
            "pass": median <= TARGET_S and cases > 0 and passed == cases}


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| example | cases passed | median wall | min | max | of which runner | per case "
             "| target | result |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        per_case = f"{r['per_case_s']:.2f} s" if r["per_case_s"] is not None else "–"
        lines.append(
            f"| {r['skill']} | {r['passed']}/{r['cases']} | {r['median_s']:.2f} s | "
            f"{r['min_s']:.2f} s | {r['max_s']:.2f} s | {r['runner_s']:.2f} s | {per_case} | "
            f"≤ {TARGET_S:g} s | "
            f"{'PASS' if r['pass'] else 'FAIL'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per example (median kept)")
    parser.add_argument("--only", nargs="+", choices=EXAMPLES, help="these examples only")
    parser.add_argument("--json", action="store_true", help="JSON instead of a markdown table")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    rows = [bench(name, args.repeat) for name in args.only or EXAMPLES]
    print(json.dumps(rows, indent=2) if args.json else markdown(rows))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
