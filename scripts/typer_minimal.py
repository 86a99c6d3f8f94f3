"""A minimal two-command Typer app: the floor for ``sagaflow --help`` wall time."""

from __future__ import annotations

import typer

app = typer.Typer(help="A minimal Typer app with two commands.", add_completion=False)


@app.command()
def hello(name: str = typer.Option("world", "--name", help="Who to greet.")) -> None:
    """Print a greeting."""
    typer.echo(f"hello, {name}")


@app.command()
def bye(name: str = typer.Option("world", "--name", help="Who to leave.")) -> None:
    """Print a farewell."""
    typer.echo(f"bye, {name}")


if __name__ == "__main__":
    app()
