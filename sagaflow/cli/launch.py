"""``sagaflow launch``, declared from :data:`sagaflow.cli.options.LAUNCH_OPTIONS`.

The work is in :mod:`sagaflow.cli.launching`; most launches never reach this
module (see :func:`sagaflow.cli.options.parse_launch`).
"""

from __future__ import annotations

import inspect
from typing import Any

import typer

from sagaflow.cli import _state
from sagaflow.cli.declare import typer_parameters, with_signature
from sagaflow.cli.options import LAUNCH_HELP, LAUNCH_OPTIONS, SKILL_HELP, launch_call


def register(app: typer.Typer) -> None:
    def launch(ctx: typer.Context, skill: str, **values: Any) -> None:
        from sagaflow.cli.launching import run_launch

        code = run_launch(launch_call(skill, ctx.args, values, _state.root()))
        if code:
            raise typer.Exit(code)

    head = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "skill", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
            default=typer.Argument(..., help=SKILL_HELP, show_default=False),
        ),
    ]
    app.command(
        "launch", help=LAUNCH_HELP,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(with_signature(launch, head + typer_parameters(LAUNCH_OPTIONS)))
