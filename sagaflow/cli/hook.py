"""``sagaflow hook install|uninstall|status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, fields, out

if TYPE_CHECKING:
    from sagaflow.hook import HookChange

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


def _render(change: HookChange, as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        emit_json(asdict(change))
    else:
        out(change.message)


@app.command()
def install(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Add sagaflow's SessionStart hook to Claude Code's settings.json."""
    from sagaflow import hook

    _render(hook.install(_state.home()), as_json)


@app.command()
def uninstall(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Remove sagaflow's hook (and nothing else) from settings.json."""
    from sagaflow import hook

    _render(hook.uninstall(), as_json)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether the hook is installed and current."""
    from sagaflow import hook

    info = hook.status(_state.home())
    if as_json:
        emit_json(info)
        return
    fields(info)
    if not info.get("installed"):
        raise typer.Exit(1)
