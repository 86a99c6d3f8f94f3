"""``sagaflow worker start|stop|status|run``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, out, table

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.command()
def run(
    pool: str | None = typer.Option(
        None, "--pool", help="Serve this worker pool (a task queue) instead of the default one."
    ),
    max_concurrent: int | None = typer.Option(
        None, "--max-concurrent", min=1, help="At most this many steps at once in this worker."
    ),
    build: str | None = typer.Option(
        None, "--build", hidden=True, help="Serve this build's snapshot (what the daemon runs)."
    ),
) -> None:
    """Run a worker in the foreground: this directory's build, or a pool with --pool."""
    from sagaflow.runs.workers import run_foreground

    run_foreground(_state.home(), _state.settings(), pool, max_concurrent, build)


@app.command()
def start(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Start this directory's build worker, and every build worker open runs need."""
    from dataclasses import asdict

    from sagaflow.runs.workers import start_daemon

    started = start_daemon(_state.home(), _state.settings())
    if as_json:
        emit_json(asdict(started))
        return
    out(f"worker {started.action} (pid {started.pid}, build {started.build}); log: {started.log}")
    for build, pid in started.revived.items():
        out(f"worker started (pid {pid}, build {build}) for its open runs")


@app.command()
def stop(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Stop every build worker of this home gracefully (in-flight steps drain first)."""
    from sagaflow._engine import daemon

    home, settings = _state.home(), _state.settings()
    pids = daemon.stop(home, timeout=settings.worker_shutdown_seconds + 10)
    if as_json:
        emit_json({"stopped": bool(pids), "pids": pids})
    elif not pids:
        err("no worker was running")
    else:
        out("stopped worker " + ", ".join(f"pid {pid}" for pid in pids))


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every build worker: build, pool, pid, open runs, started (exit 1: none, unless --json)."""
    from sagaflow.runs.workers import status as worker_status

    info = worker_status(_state.home(), _state.settings())
    rows = info["workers"]
    if as_json:
        emit_json(info)
        return
    if not rows:
        out("no worker running (the next launch starts one for its build)")
    else:
        table([{
            "build": row["build"] + (" (current)" if row["current"] else ""),
            "pool": row["pool"], "pid": row["pid"],
            "open runs": "?" if row["open_runs"] is None else row["open_runs"],
            "started": row["started_at"],
        } for row in rows], ["build", "pool", "pid", "open runs", "started"])
    if not rows:
        raise typer.Exit(1)
