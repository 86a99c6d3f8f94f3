"""``sagaflow launch``."""

from __future__ import annotations

import json

import typer

from sagaflow.cli import _state
from sagaflow.cli._render import StatusLine, emit_json, err, out

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
        import asyncio

        from sagaflow.launcher import parse_skill_args
        from sagaflow.runtime.launch_flow import launch as do_launch

        args = parse_skill_args(list(arg), list(ctx.args))
        status = StatusLine(skill)
        chosen_id: list[str] = []

        def started(rid: str) -> None:
            chosen_id.append(rid)
            status.prefix = rid
            if wait:
                err(f"run {rid}")

        try:
            outcome = asyncio.run(
                do_launch(
                    _state.home(), _state.settings(), skill, args,
                    run_id=run_id, transport=transport, wait=wait,
                    notice=err, progress=status.update if wait else None, on_started=started,
                )
            )
        except KeyboardInterrupt:
            status.clear()
            rid = chosen_id[0] if chosen_id else run_id
            if rid:
                err(f"detached; run {rid} keeps going. 'sagaflow show {rid}' tracks it, "
                    f"'sagaflow launch {skill} --id {rid} --await' re-attaches.")
            raise typer.Exit(130) from None
        finally:
            status.clear()
        scripted = outcome.transport == "scripted"
        if as_json:
            emit_json({
                "run_id": outcome.run_id, "skill": outcome.skill,
                "started": outcome.started, "transport": outcome.transport,
                **({"status": "completed", "result": outcome.result} if outcome.waited else {}),
            })
            return
        if not outcome.waited:
            out(outcome.run_id)
            return
        if scripted:
            err("note: replies were scripted (transport 'scripted'); no model was called")
        result = outcome.result
        out(result if isinstance(result, str) else json.dumps(result, indent=2, default=str))
