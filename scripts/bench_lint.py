"""Benchmark lint's cost: on a warm launch (it should add nothing), on a new build, and alone.

Starts its own Temporal dev server and fake Anthropic API (scripts/bench_env.py) and
stops everything it started. Prints one JSON object; progress goes to stderr.

    python scripts/bench_lint.py [--launches N]

Measures:
- ``warm_launch_s``: ``launch hello-world --await`` on a warm build, alternating the
  default (lint on) and ``--no-lint``, N of each (medians and the difference);
- ``warm_check_us``: what a warm launch does for lint (``lintcache.linted``), in process;
- ``lint_ms``: ``static_findings`` per bundled and test skill, and the new-build gate
  (``launch_gate``) for hello-world, in process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_env import SAGAFLOW, Env, log, timed

REPO = Path(__file__).resolve().parent.parent


def warm_launches(n: int) -> dict[str, object]:
    env = Env()
    try:
        env.start_server()
        env.start_fake()
        box = env.sandbox("lint")
        first = timed([*SAGAFLOW, "launch", "hello-world", "--name", "w", "--await"],
                      box.env, box.work)
        if first.code:
            raise RuntimeError(first.err[-300:])
        on, off = [], []
        for i in range(n):
            for flags, into in (((), on), (("--no-lint",), off)):
                result = timed([*SAGAFLOW, "launch", "hello-world", "--name", f"r{i}",
                                "--await", *flags], box.env, box.work)
                if result.code:
                    raise RuntimeError(result.err[-300:])
                into.append(result.seconds)
            log(f"{i + 1}/{n}: lint {on[-1]:.3f}s, --no-lint {off[-1]:.3f}s")
        return {"lint_on_median": statistics.median(on), "no_lint_median": statistics.median(off),
                "difference_s": statistics.median(on) - statistics.median(off),
                "lint_on": on, "no_lint": off}
    finally:
        env.close()


def in_process() -> dict[str, object]:
    os.environ["SAGAFLOW_HOME"] = tempfile.mkdtemp(prefix="sagaflow-bench-lint-")
    os.environ["SAGAFLOW_SKILLS_PATH"] = str(REPO / "tests" / "skills")
    from sagaflow.paths import Home
    from sagaflow.runs import lintcache
    from sagaflow.runs.lint import launch_gate, passthrough
    from sagaflow.skills import builds
    from sagaflow.skills.discovery import discover_all, load_skills
    from sagaflow.skills.lint import static_findings

    home = Home.current()
    home.ensure()
    loaded = load_skills(only="hello-world")
    build = builds.make(home, loaded.sources)
    start = time.perf_counter()
    launch_gate(home, build.id, loaded, "hello-world", lambda _line: None)
    gate_ms = (time.perf_counter() - start) * 1000
    checks = []
    for _ in range(1000):
        start = time.perf_counter()
        lintcache.linted(home, build.id, "hello-world")
        checks.append((time.perf_counter() - start) * 1e6)
    modules = passthrough()
    per_skill = {}
    for source in discover_all().active:
        start = time.perf_counter()
        static_findings(source.dir, source.kind, source.module, registered=set(),
                        passthrough=modules)
        per_skill[source.dir.name] = round((time.perf_counter() - start) * 1000, 2)
    return {"new_build_gate_ms": round(gate_ms, 2),
            "warm_check_us": round(statistics.median(checks), 1), "lint_ms": per_skill}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10)
    args = parser.parse_args()
    result = {"in_process": in_process(), "warm_launch_s": warm_launches(args.launches)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
