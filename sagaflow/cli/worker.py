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


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether the worker daemon is alive and what it loaded."""
    from sagaflow._engine import daemon

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
