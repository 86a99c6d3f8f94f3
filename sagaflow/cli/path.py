"""``sagaflow path``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, out
from sagaflow.errors import UsageError
from sagaflow.paths import NAMED_PATHS, named_path


def register(app: typer.Typer) -> None:
    @app.command()
    def path(
        name: str = typer.Argument("home", help=f"One of: {', '.join(NAMED_PATHS)}."),
        as_json: bool = typer.Option(False, "--json", help="Print all paths as JSON."),
    ) -> None:
        """Print where sagaflow keeps a thing (home, inbox, runs, logs, config, ...)."""
        home = _state.home()
        if as_json:
            emit_json({n: str(named_path(home, n)) for n in NAMED_PATHS})
            return
        if name not in NAMED_PATHS:
            raise UsageError(f"Unknown path {name!r}; use one of {', '.join(NAMED_PATHS)}.")
        out(str(named_path(home, name)))
