"""Commands and options that sagaflow's messages tell users to type, checked by the real parser.

A plain module shared by ``tests/unit/test_suggested_commands.py`` (every command
quoted in sagaflow's source) and ``tests/cli/test_suggestions.py`` (the advice real
errors print). Checking never runs a command: it builds Click's context from the
same command tree the CLI uses, which parses every option and argument.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

#: a quoted command: 'sagaflow ...' or `sagaflow ...`, or one after "label: " on its own line
QUOTED = re.compile(r"['`]sagaflow ([^'`\n]+)['`]|(?:^|\n)[ \t]*[a-z]+: +sagaflow ([^\n]+)")
#: an option named in prose ("pass --transport scripted", "pick one with --step")
BARE = re.compile(r"(?<![\w'`-])(--[a-z][a-z-]*)")


def tree() -> Any:
    """The Click command the ``sagaflow`` CLI runs (built from the Typer app)."""
    from sagaflow.cli.app import command

    return command()


def quoted_commands(text: str) -> list[str]:
    """The ``sagaflow ...`` commands quoted in ``text`` (without the leading ``sagaflow``)."""
    return [(a or b).strip() for a, b in QUOTED.findall(text)]


def bare_options(text: str) -> list[str]:
    """Options named in ``text`` outside its quoted commands."""
    prose = QUOTED.sub(" ", text)
    return BARE.findall(prose)


def _leaf(argv: list[str]) -> tuple[Any, list[str], list[str]]:
    """The command ``argv`` names, its words, and the rest of ``argv``."""
    cmd, words, rest = tree(), [], list(argv)
    while rest and hasattr(cmd, "commands") and rest[0] in cmd.commands:
        words.append(rest[0])
        cmd = cmd.commands[rest.pop(0)]
    return cmd, words, rest


def problem(command: str) -> str | None:
    """Why ``sagaflow <command>`` would not parse (None: it parses).

    ``{...}`` placeholders of f-strings become ``X``. A trailing option without its
    value (help text naming the option) is accepted.
    """
    from typer._click.exceptions import ClickException

    try:
        argv = shlex.split(re.sub(r"\{[^}]*\}", "X", command))
    except ValueError as exc:
        return f"cannot split: {exc}"
    cmd, words, rest = _leaf(argv)
    if hasattr(cmd, "commands") and rest:
        return f"no command {' '.join(argv[: len(words) + 1])!r}"
    if not rest:
        return None  # names a command ('sagaflow skills', 'sagaflow launch')
    try:
        cmd.make_context(" ".join(["sagaflow", *words]), list(rest))  # click consumes it
    except ClickException as exc:
        message = exc.format_message()
        if "requires an argument" in message and rest and rest[-1].startswith("--"):
            return None
        return message
    return None


def option_problem(command_words: list[str], option: str) -> str | None:
    """Why ``option`` is not an option of ``sagaflow <command_words>`` nor of the root."""
    root = tree()
    cmd, words, rest = _leaf(command_words)
    if rest or hasattr(cmd, "commands"):
        return f"no command {' '.join(command_words)!r}"
    known = {o for p in [*cmd.params, *root.params] for o in getattr(p, "opts", [])}
    return None if option in known else f"'sagaflow {' '.join(words)}' has no option {option}"
