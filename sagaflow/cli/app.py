"""The ``sagaflow`` command line.

Commands are thin: parse, call one library function, render. Heavy modules
(temporalio, anthropic, skill code) are imported inside the commands that need
them, so ``--help``, ``inbox``, ``dismiss``, ``path`` and the hook stay fast.
``launch`` usually bypasses this module entirely (see :mod:`sagaflow.cli.main`).
"""

from __future__ import annotations

import inspect
from typing import Any

import typer

from sagaflow.cli import _state
from sagaflow.cli.declare import typer_parameters, with_signature
from sagaflow.cli.options import GLOBAL_OPTIONS, VERSION_FLAG, GlobalValues, verbose_requested

app = typer.Typer(
    name="sagaflow",
    help="Durable execution for long-running agent skills, on Temporal.",
    no_args_is_help=True,
    # Typer's --install-completion / --show-completion; the completion script calls
    # sagaflow with _SAGAFLOW_COMPLETE set, which reaches Click through cli.app.run
    add_completion=True,
    pretty_exceptions_enable=False,
    # plain help: no rich import on --help (about 50 ms) and '[...]' in help text survives
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from sagaflow import __version__

        print(f"sagaflow {__version__}")
        raise typer.Exit()


def _root(**values: Any) -> None:
    """Durable execution for long-running agent skills, on Temporal."""
    _state.configure(GlobalValues(**{o.dest: values[o.dest] for o in GLOBAL_OPTIONS}))


app.callback()(with_signature(_root, [
    *typer_parameters(GLOBAL_OPTIONS),
    inspect.Parameter(
        "version", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
        default=typer.Option(
            False, VERSION_FLAG, callback=_version, is_eager=True, help="Print the version."
        ),
    ),
]))


def _register() -> None:
    from sagaflow.cli import doctor, hook, inbox, launch, path, runs, server, skills, worker

    for module in (launch, inbox, runs, skills, path, doctor):
        module.register(app)
    app.add_typer(server.app, name="server", help="Manage the embedded Temporal dev server.")
    app.add_typer(worker.app, name="worker", help="Manage the worker daemon.")
    app.add_typer(hook.app, name="hook", help="Manage the Claude Code SessionStart hook.")
    # issue 3 command modules, one line each:
    from sagaflow.cli import steer
    steer.register(app)
    from sagaflow.cli import answer
    answer.register(app)
    from sagaflow.cli import recover
    recover.register(app)
    from sagaflow.cli import schedule
    app.add_typer(schedule.app, name="schedule", help="Run skills on a cron schedule.")
    from sagaflow.cli import observe
    observe.register(app)
    from sagaflow.cli import cost
    cost.register(app)
    from sagaflow.cli import replaycheck
    replaycheck.register(app)
    from sagaflow.cli import upgrade
    upgrade.register(app)
    from sagaflow.cli import new, testcmd
    new.register(app)
    testcmd.register(app)
    from sagaflow.cli import lint
    lint.register(app)


_register()

#: help placeholders by long option (value-taking options that declare none)
OPTION_WORDS = {
    "--since": "DURATION", "--older-than": "DURATION", "--timeout": "DURATION",
    "--by": "NAME", "--skill": "SKILL", "--status": "STATUS[,STATUS]", "--pool": "POOL",
    "--limit": "N", "--max-concurrent": "N", "--reason": "REASON", "--comment": "COMMENT",
    "--note": "NOTE", "--step": "STEP", "--extend-budget": "USD", "--overlap": "MODE",
}
#: help placeholders by argument name (the rest: the name in capitals)
ARGUMENT_WORDS = {"run_id": "RUN", "run_ids": "RUN", "payload": "JSON"}


def _readable(command: Any) -> Any:
    """Give every value a word in ``--help`` (``--since DURATION``, ``RUN``), not a type.

    Typer labels a value by its Python type (``<str>``, ``<list[str]>``); options and
    arguments that declare a ``metavar`` keep it, the others get one here, and an
    argument's row shows only its word (Typer appends the type to argument rows).
    """
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument":
            if param.metavar is None:
                param.metavar = ARGUMENT_WORDS.get(param.name, str(param.name).upper())
            # Typer appends "<str>" to an argument's help row; the word says it all
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
        elif param.metavar is None and not getattr(param, "is_flag", False):
            long = max(param.opts, key=len)
            param.metavar = OPTION_WORDS.get(long, long.lstrip("-").upper())
    for sub in getattr(command, "commands", {}).values():
        _readable(sub)
    return command


def command() -> Any:
    """The Click command the CLI runs: the Typer app with readable help placeholders."""
    return _readable(typer.main.get_command(app))


def run(argv: list[str]) -> int:
    """Run the Typer CLI and return the exit code (never raises)."""
    from sagaflow.cli.main import guarded

    try:  # recent typer vendors click; older ones depend on it
        from typer._click.exceptions import ClickException  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover
        from click import ClickException  # type: ignore[no-redef,import-not-found,unused-ignore]

    def call() -> int:
        try:
            rv = command().main(args=argv, prog_name="sagaflow", standalone_mode=False)
        except typer.Exit as exc:
            return int(getattr(exc, "exit_code", 0) or 0)
        except ClickException as exc:
            exc.show()
            return int(exc.exit_code)
        except typer.Abort:
            raise KeyboardInterrupt from None
        return rv if isinstance(rv, int) else 0

    return guarded(call, verbose_requested(argv))


def main() -> None:
    """Console-script entry point (see :func:`sagaflow.cli.main.main`)."""
    from sagaflow.cli.main import main as entry_main

    entry_main()
