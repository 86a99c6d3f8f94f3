"""``sagaflow worker start|stop|status|run``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import console, emit_json, err, out, table

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.command()
def run(
    pool: str | None = typer.Option(
        None, "--pool", help="Serve this worker pool (a task queue) instead of the default one."
    ),
    max_concurrent: int | None = typer.Option(
        None, "--max-concurrent", min=1, help="At most this many steps at once in this worker."
    ),
) -> None:
    """Run a worker in the foreground (the daemon runs this without --pool)."""
    from sagaflow.runs.workers import run_foreground

    run_foreground(_state.home(), _state.settings(), pool, max_concurrent)


@app.command()
def start(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Start the worker daemon (or replace it if skills changed)."""
    from dataclasses import asdict

    from sagaflow.runs.workers import start_daemon

    started = start_daemon(_state.home(), _state.settings())
    if as_json:
        emit_json(asdict(started))
    else:
        out(f"worker {started.action} (pid {started.pid}); log: {started.log}")


@app.command()
def stop(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Stop the worker daemon gracefully (in-flight steps drain first)."""
    from sagaflow._engine import daemon

    home, settings = _state.home(), _state.settings()
    pid = daemon.stop(home, timeout=settings.worker_shutdown_seconds + 10)
    if as_json:
        emit_json({"stopped": pid is not None, "pid": pid})
    elif pid is None:
        err("no worker was running")
    else:
        out(f"stopped worker pid {pid}")


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
    """Show whether the worker daemon is alive and what it loaded (or who serves --pool)."""
    from sagaflow._engine import daemon

    if pool is not None:
        _pool_status(pool, as_json)
        return
    info = daemon.status(_state.home())
    if as_json:
        emit_json(info)
        return
    if not info["alive"]:
        out("worker not running")
        raise typer.Exit(1)
    out(f"worker pid {info['pid']} on {info['task_queue']} @ {info['address']} "
        f"since {info['started_at']}")
    if console() is not None:  # a terminal: the loaded skills as a table
        table(info["skills"], ["name", "status", "error"])
        return
    for skill in info["skills"]:
        flag = "ok" if skill.get("status") == "ok" else skill.get("status")
        out(f"  {skill.get('name')}: {flag}")
