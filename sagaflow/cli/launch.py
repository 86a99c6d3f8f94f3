"""``sagaflow launch`` (the work is in :mod:`sagaflow.launch_cli`)."""

from __future__ import annotations

import typer

from sagaflow.cli import _state

HELP = """Launch a skill durably: sagaflow launch SKILL [--key value ...] [--arg k=v ...].

Skill arguments are free --key value options (or --arg key=value). The run id
is printed on stdout; with --await, progress goes to stderr and the result to
stdout. Ctrl-C while awaiting detaches and leaves the run going."""


def register(app: typer.Typer) -> None:
    @app.command(
        help=HELP,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def launch(
        ctx: typer.Context,
        skill: str = typer.Argument(..., help="Skill name (see 'sagaflow skills')."),
        arg: list[str] = typer.Option([], "--arg", "-a", help="Skill argument key=value."),
        wait: bool = typer.Option(False, "--await", help="Wait for the result."),
        run_id: str | None = typer.Option(None, "--id", help="Run id (reuse to attach/resume)."),
        transport: str | None = typer.Option(
            None, "--transport", help="auto, anthropic, claude or scripted."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        from sagaflow.launch_cli import run_launch

        code = run_launch(
            skill, list(arg), list(ctx.args), wait=wait, run_id=run_id, transport=transport,
            as_json=as_json, **_state.overrides(),
        )
        if code:
            raise typer.Exit(code)
