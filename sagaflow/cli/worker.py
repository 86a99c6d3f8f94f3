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
    """Stop every build worker of this home gracefully (in-flight steps drain first), and
    the home's launcher."""
    from sagaflow._engine import daemon
    from sagaflow.cli import prefork_server

    home, settings = _state.home(), _state.settings()
    pids = daemon.stop(home, timeout=settings.worker_shutdown_seconds + 10)
    launcher = prefork_server.stop(str(home.root))
    if as_json:
        emit_json({"stopped": bool(pids), "pids": pids, "launcher_pid": launcher})
    elif not pids:
        err("no worker was running")
    else:
        out("stopped worker " + ", ".join(f"pid {pid}" for pid in pids))


def _pool_status(pool: str, as_json: bool) -> None:
    """``worker status --pool P``: who serves the pool (exit 1 when nobody does)."""
    import asyncio

    from sagaflow._engine.client import ensure_temporal
    from sagaflow.runs.pools import PoolStatus, pool_status

    async def describe() -> PoolStatus:
        settings = _state.settings()
        client = await ensure_temporal(settings)
        return await pool_status(client, settings, _state.home(), pool)

    found = asyncio.run(describe())
    if as_json:
        emit_json(found.to_dict())
    else:
        local = ", ".join(str(p) for p in found.local_pids) or "none"
        out(f"pool {found.pool} (task queue {found.task_queue}): "
            f"{'served' if found.serving else 'no worker'}; workers here: {local}")
        for poller in found.pollers:
            state = "alive" if poller.alive else "gone"
            out(f"  {poller.identity}: {state}, last polled {poller.last_poll or 'never'}")
        note = found.waiting_note()
        if note:
            err(f"{note}; start one with '{found.start_command()}'")
    if not found.serving:
        raise typer.Exit(1)


@app.command()
def status(
    pool: str | None = typer.Option(
        None, "--pool", help="Who serves this worker pool, here and on other hosts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List every build worker: build, pool, pid, open runs, started (or who serves --pool).

    Exits 1 when no worker runs (with --json too only for --pool).
    """
    from sagaflow.runs.workers import status as worker_status

    if pool is not None:
        _pool_status(pool, as_json)
        return
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
