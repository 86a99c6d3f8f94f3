"""``sagaflow server start|stop|status``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, fields, out

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.command()
def start(
    ui: bool = typer.Option(False, "--ui", help="Also serve the Temporal Web UI."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start the embedded Temporal dev server for the configured local address."""
    from dataclasses import asdict

    from sagaflow._engine import server

    state = server.start(_state.home(), _state.settings(), ui=ui)
    if as_json:
        emit_json(asdict(state))
        return
    out(f"temporal dev server pid {state.pid} on {state.address}")
    if state.ui_port:
        out(f"web ui http://127.0.0.1:{state.ui_port}")


@app.command()
def stop(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Stop the embedded server this home started (its data stays)."""
    from sagaflow._engine import server

    state = server.stop(_state.home())
    if as_json:
        emit_json({"stopped": state is not None, "pid": state.pid if state else None})
    elif state is None:
        err("no embedded server was running")
    else:
        out(f"stopped temporal dev server pid {state.pid}")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether Temporal answers and whether sagaflow manages it."""
    from sagaflow._engine import server

    info = server.status(_state.home(), _state.settings())
    if as_json:
        emit_json(info)
        return
    fields(info)
    if not info.get("answering"):
        raise typer.Exit(1)
