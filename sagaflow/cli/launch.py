"""``sagaflow launch`` (the work is in :mod:`sagaflow.cli.launching`)."""

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
        pool: str | None = typer.Option(
            None, "--pool", help="Run on this worker pool (see 'sagaflow worker run --pool')."
        ),
        budget_usd: str | None = typer.Option(
            None, "--budget-usd", help="Park for approval before spending more than this (USD)."
        ),
        timeout: str | None = typer.Option(
            None, "--timeout", help="Fail the whole run after this long, e.g. 2h or 30m."
        ),
        if_exists: str | None = typer.Option(
            None, "--if-exists", help="With --id: attach, fail or replace an existing run."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        from sagaflow.cli.launching import run_launch

        code = run_launch(
            skill, list(arg), list(ctx.args), wait=wait, run_id=run_id, transport=transport,
            as_json=as_json, pool=pool, budget_usd=budget_usd, timeout=timeout,
            if_exists=if_exists, **_state.overrides(),
        )
        if code:
            raise typer.Exit(code)
