"""The benchmarks that compare fresh processes or run counts: latency, throughput,
help and clean_exit. Each returns result rows; nothing here asserts."""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench_env import PY, SAGAFLOW, SCRIPTS, Env, Sandbox, Timed, log, timed

Row = dict[str, Any]


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def row(bench: str, metric: str, sagaflow: float | None, raw: float | None, *,
        target: str = "", passed: bool | None = None, unit: str = "s", note: str = "",
        compare: bool = True) -> Row:
    ratio = sagaflow / raw if compare and sagaflow is not None and raw else None
    return {"bench": bench, "metric": metric, "unit": unit, "sagaflow": sagaflow, "raw": raw,
            "ratio": ratio, "target": target, "pass": passed, "note": note}


@dataclass
class Series:
    """Fresh-process timings of one command, with failures kept apart."""

    label: str
    expect: str
    ok: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    signals: int = 0
    nonzero: int = 0

    def add(self, result: Timed) -> None:
        last = result.out.strip().splitlines()[-1] if result.out.strip() else ""
        if result.code < 0:
            self.signals += 1
        elif result.code != 0:
            self.nonzero += 1
        if result.abnormal or (self.expect and last != self.expect):
            tail = (result.err.strip().splitlines() or ["no stderr"])[-1]
            self.failures.append(f"exit {result.code}{' timeout' if result.timed_out else ''}: "
                                 f"{last[:60]!r} {tail[:160]}")
            if result.code == 0 and not result.timed_out:
                return  # wrong output: not a timing we trust
            if result.code < 0 and self.expect and self.expect in result.out:
                self.ok.append(result.seconds)  # work done, died at exit: still a latency
            return
        self.ok.append(result.seconds)

    @property
    def abnormal(self) -> int:
        return self.signals + self.nonzero

    def summary(self) -> str:
        return (f"{self.label}: {len(self.ok)} timed, {self.nonzero} non-zero exits, "
                f"{self.signals} killed by a signal")


def _launch_cmd(name: str) -> list[str]:
    return [*SAGAFLOW, "launch", "hello-world", "--name", name, "--await"]


def _raw_cmd(env: Env, name: str, plain_exit: bool = False) -> list[str]:
    cmd = [PY, str(SCRIPTS / "raw_floor.py"), "run", *env.raw_args(), "--name", name]
    return [*cmd, "--plain-exit"] if plain_exit else cmd


def latency(env: Env, box: Sandbox, n: int) -> list[Row]:
    """Fresh `launch --await` vs a fresh raw client process, alternated, both warm.

    `launch` goes through the home's launcher (sagaflow.cli.prefork; the warm-up starts
    it); the same launch in-process (``SAGAFLOW_NO_PREFORK=1``: every import paid by the
    launching process, as a raw client pays its own) is timed too and reported beside it.
    """
    log("latency: warm-up (starts the sagaflow worker daemon and the launcher)")
    warm = timed(_launch_cmd("warm"), box.env, box.work)
    log(f"latency: warm-up sagaflow {warm.seconds:.2f}s exit {warm.code} "
        f"{warm.err.strip()[-200:]!r}")
    time.sleep(2.0)  # the launcher imports in the background after the first launch
    raw_warm = timed(_raw_cmd(env, "warm"), env.raw_env(), env.root)
    log(f"latency: warm-up raw {raw_warm.seconds:.2f}s exit {raw_warm.code}")
    inproc_env = {**box.env, "SAGAFLOW_NO_PREFORK": "1"}
    sf, inproc, raw = (Series("sagaflow", "hello, bench"), Series("in-process", "hello, bench"),
                       Series("raw", "hello, bench"))
    for i in range(n):
        order = ("sf", "in", "raw") if i % 2 == 0 else ("raw", "in", "sf")
        took: dict[str, float] = {}
        for which in order:
            if which == "sf":
                result = timed(_launch_cmd("bench"), box.env, box.work)
                sf.add(result)
            elif which == "in":
                result = timed(_launch_cmd("bench"), inproc_env, box.work)
                inproc.add(result)
            else:
                result = timed(_raw_cmd(env, "bench"), env.raw_env(), env.root)
                raw.add(result)
            took[which] = result.seconds
        log(f"latency {i + 1}/{n}: sagaflow {took['sf']:.3f}s in-process {took['in']:.3f}s "
            f"raw {took['raw']:.3f}s")
    for series in (sf, inproc, raw):
        log(f"latency: {series.summary()}" + (f"; first: {series.failures[0]}"
                                              if series.failures else ""))
    if not sf.ok or not raw.ok or not inproc.ok:
        return [row("latency", "median launch→result", None, None, target="ratio ≤ 1.1",
                    note=f"{sf.summary()}; {inproc.summary()}; {raw.summary()}")]
    med = statistics.median(sf.ok) / statistics.median(raw.ok)
    note = f"N={n} each, alternated; {sf.summary()}; {raw.summary()} (raw uses os._exit)"
    return [
        row("latency", "median launch→result", statistics.median(sf.ok),
            statistics.median(raw.ok), target="ratio ≤ 1.1", passed=med <= 1.1, note=note),
        row("latency", "p90 launch→result", p90(sf.ok), p90(raw.ok), note="informative"),
        row("latency", "median launch→result, in-process", statistics.median(inproc.ok),
            statistics.median(raw.ok), note="informative: SAGAFLOW_NO_PREFORK=1, no launcher"),
    ]


def _json_tail(result: Timed) -> dict[str, Any]:
    for line in reversed(result.out.strip().splitlines()):
        if line.startswith("{"):
            data: dict[str, Any] = json.loads(line)
            return data
    raise RuntimeError(f"driver exit {result.code}, no JSON: {result.err.strip()[-400:]}")


def throughput(env: Env, box: Sandbox, count: int, concurrency: int = 20,
               rounds: int = 5) -> list[Row]:
    """Runs/sec through one warm worker, raw and sagaflow in alternating rounds.

    ``count`` runs per side, split into ``rounds`` batches that alternate
    (raw, sagaflow, sagaflow, raw, ...), so a load change on a shared machine hits
    both sides alike. Each batch is timed from its first start to its last
    completion; the ratio is the median of the per-round ratios.
    """
    per = max(1, count // rounds)
    timeout = 60.0 + per  # bounded: a stuck run cannot hang the benchmark
    sf_cmd = [PY, str(SCRIPTS / "sf_throughput.py"), "--count", str(per),
              "--concurrency", str(concurrency)]
    raw_cmd = [PY, str(SCRIPTS / "raw_floor.py"), "many", *env.raw_args(),
               "--count", str(per), "--concurrency", str(concurrency)]
    log("throughput: warm-up (10 runs each)")
    timed([*sf_cmd[:2], "--count", "10"], box.env, box.work, timeout=120)
    timed([*raw_cmd[:-4], "--count", "10"], env.raw_env(), env.root, timeout=120)
    sides = {"raw": (raw_cmd, env.raw_env(), env.root), "sagaflow": (sf_cmd, box.env, box.work)}
    batches: dict[str, list[dict[str, Any]]] = {"raw": [], "sagaflow": []}
    for i in range(rounds):
        for label in ("raw", "sagaflow") if i % 2 == 0 else ("sagaflow", "raw"):
            cmd, run_env, cwd = sides[label]
            try:
                result = _json_tail(timed(cmd, run_env, cwd, timeout=timeout))
            except (RuntimeError, ValueError) as exc:
                result = {"per_sec": None, "ok": 0, "seconds": 0.0, "error_count": -1,
                          "errors": [str(exc)[:300]]}
            batches[label].append(result)
            log(f"throughput round {i + 1}/{rounds}: {label}: {json.dumps(result)[:200]}")
    log("throughput: sagaflow-launch …")
    try:
        via = _json_tail(timed([*sf_cmd[:2], "--mode", "launch", "--count",
                                str(max(20, count // 5)), "--concurrency", str(concurrency)],
                               box.env, box.work, timeout=60.0 + count))
    except (RuntimeError, ValueError) as exc:
        via = {"per_sec": None, "error_count": -1, "errors": [str(exc)[:300]]}

    def total(label: str) -> tuple[float | None, int]:
        done = batches[label]
        seconds = sum(float(b.get("seconds") or 0.0) for b in done)
        errors = sum(int(b.get("error_count") or 0) for b in done)
        ok = sum(int(b.get("ok") or 0) for b in done)
        return (ok / seconds if seconds > 0 and errors >= 0 else None), errors

    sf, sf_errors = total("sagaflow")
    raw, raw_errors = total("raw")
    ratios = [s["per_sec"] / r["per_sec"] for s, r in zip(batches["sagaflow"], batches["raw"],
                                                          strict=True)
              if s.get("per_sec") and r.get("per_sec")]
    ratio = statistics.median(ratios) if len(ratios) == rounds else None
    errs = f"errors sagaflow {sf_errors}, raw {raw_errors}"
    rows = [row("throughput", f"runs/s ({per * rounds} runs, {concurrency} in flight)", sf, raw,
                unit="runs/s", target="ratio ≥ 0.9",
                passed=None if ratio is None else ratio >= 0.9 and sf_errors == 0,
                note=f"prepare, memo, size check, runs.start on one client; "
                     f"{rounds} alternating rounds of {per}, "
                     f"per-round ratios {', '.join(f'{x:.2f}' for x in ratios)} "
                     f"(median {ratio if ratio is None else round(ratio, 2)}); {errs}")]
    rows[0]["ratio"] = ratio
    rows.append(row("throughput", f"runs/s via launch_flow.launch() ({via.get('count', '?')} runs)",
                    via["per_sec"], raw, unit="runs/s",
                    note=f"informative; errors {via['error_count']}"))
    return rows


def help_time(env: Env, box: Sandbox, n: int) -> list[Row]:
    """`sagaflow --help` vs a minimal two-command Typer app, fresh processes."""
    sf_cmd = [*SAGAFLOW, "--help"]
    ty_cmd = [PY, str(SCRIPTS / "typer_minimal.py"), "--help"]
    timed(sf_cmd, box.env, box.work)
    timed(ty_cmd, box.env, box.work)
    sf, ty = Series("sagaflow", ""), Series("typer", "")
    for i in range(n):
        pair = (sf_cmd, sf), (ty_cmd, ty)
        for cmd, series in pair if i % 2 == 0 else reversed(pair):
            series.add(timed(cmd, box.env, box.work))
    log(f"help: sagaflow {sorted(round(s, 3) for s in sf.ok)}")
    log(f"help: typer    {sorted(round(s, 3) for s in ty.ok)}")
    if not sf.ok or not ty.ok:
        return [row("help", "median --help", None, None, note=f"{sf.summary()}; {ty.summary()}")]
    ratio = statistics.median(sf.ok) / statistics.median(ty.ok)
    return [row("help", "median --help wall", statistics.median(sf.ok),
                statistics.median(ty.ok), target="ratio ≤ 1.25", passed=ratio <= 1.25,
                note=f"N={n} each, alternated; raw = minimal 2-command Typer app")]


def clean_exit(env: Env, box: Sandbox, n: int) -> list[Row]:
    """Consecutive `launch --await` runs: any non-zero exit or signal is abnormal."""
    sf, raw = Series("sagaflow", "hello, x"), Series("raw (plain exit)", "hello, x")
    for i in range(n):
        sf.add(timed(_launch_cmd("x"), box.env, box.work))
        if (i + 1) % 10 == 0 or i + 1 == n:
            log(f"clean_exit sagaflow {i + 1}/{n}: {sf.abnormal} abnormal")
    for i in range(n):
        raw.add(timed(_raw_cmd(env, "x", plain_exit=True), env.raw_env(), env.root))
        if (i + 1) % 10 == 0 or i + 1 == n:
            log(f"clean_exit raw {i + 1}/{n}: {raw.abnormal} abnormal")
    for series in (sf, raw):
        for failure in series.failures[:3]:
            log(f"clean_exit {series.label}: {failure}")
    wrong = len(sf.failures) - sf.abnormal
    return [row("clean_exit", f"abnormal exits of {n} runs", sf.abnormal, raw.abnormal,
                unit="count", target="sagaflow = 0", passed=sf.abnormal == 0 and wrong == 0,
                compare=False,
                note=f"{sf.summary()}, {wrong} wrong outputs; {raw.summary()} "
                     "(raw = temporalio client exiting normally, no os._exit)")]
