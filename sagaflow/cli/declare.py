"""Typer parameters built from an option table of :mod:`sagaflow.cli.options`.

Typer reads a command's parameters from its callback's signature; giving the
callback a ``__signature__`` built from the table makes the table the only place
where an option's spellings, kind, help and metavar are written.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import typer

from sagaflow.cli.options import Opt

_ANNOTATIONS: dict[str, Any] = {"flag": bool, "value": str | None, "multi": list[str]}
_DEFAULTS: dict[str, Any] = {"flag": False, "value": None, "multi": []}


def typer_parameters(table: Sequence[Opt]) -> list[inspect.Parameter]:
    """Keyword-only parameters, one per option, with ``typer.Option`` defaults."""
    return [
        inspect.Parameter(
            opt.dest, inspect.Parameter.KEYWORD_ONLY, annotation=_ANNOTATIONS[opt.kind],
            default=typer.Option(
                _DEFAULTS[opt.kind], *opt.flags, help=opt.help, metavar=opt.metavar,
                show_default=False,
            ),
        )
        for opt in table
    ]


def with_signature(
    callback: Callable[..., Any], parameters: Sequence[inspect.Parameter]
) -> Callable[..., Any]:
    """``callback`` (taking ``**values``) presented to Typer with these parameters."""
    vars(callback)["__signature__"] = inspect.Signature(list(parameters))
    return callback
