"""Process entry point: error policy, clean exit, and the ``launch`` fast path.

``sagaflow launch`` is the command users wait on most, so its arguments are
parsed by :func:`sagaflow.cli.options.parse_launch` (from the same option tables
as the Typer command, by Click's rules) and the CLI framework is never imported.
Everything else, and every launch Click would answer with help or a usage error,
goes through Typer.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from sagaflow.cli.render import err
from sagaflow.errors import SagaflowError


def guarded(call: Callable[[], int], verbose: bool) -> int:
    """Run ``call``, turning every failure into one stderr line and an exit code."""
    try:
        return call()
    except SagaflowError as exc:
        if verbose:
            traceback.print_exc()
        err(f"sagaflow: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("sagaflow: interrupted")
        return 130
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        err(
            f"sagaflow: unexpected error {type(exc).__name__}: {exc} "
            "(run with --verbose for the traceback)"
        )
        return 1


def run(argv: list[str]) -> int:
    """Run the CLI for ``argv`` and return the exit code (never raises)."""
    from sagaflow.cli.options import parse_launch, verbose_requested

    call = parse_launch(argv)
    if call is None:
        from sagaflow.cli.app import run as run_cli

        return run_cli(argv)

    def launch() -> int:
        from sagaflow.cli.launching import run_launch

        return run_launch(call)

    return guarded(launch, verbose_requested(argv))


def _through_launcher(argv: list[str]) -> int | None:
    """A launch run by the home's launcher (:mod:`sagaflow.cli.prefork`); None when it is
    not a launch, no launcher took it (one is then started for the next launch) or
    launchers are off."""
    if "launch" not in argv:  # every other command: nothing imported, nothing checked
        return None
    from sagaflow.cli import prefork

    if not prefork.supported():
        return None
    from sagaflow.cli.options import parse_launch

    if parse_launch(argv) is None:
        return None
    from sagaflow.paths import home_dir, user_umask

    try:
        root = str(home_dir())
    except Exception:  # the in-process launch reports a bad home itself
        return None
    code = prefork.delegate(root, argv, user_umask())
    if code is None:
        from sagaflow.cli.prefork_server import spawn

        spawn(root)
    return code


def main() -> None:
    """Console-script entry point (also ``python -m sagaflow``, hence the worker daemon)."""
    from sagaflow.paths import make_private

    make_private()  # everything this process and its children create is owner-only
    argv = sys.argv[1:]
    code = _through_launcher(argv)
    if code is None:
        code = run(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    if "temporalio" in sys.modules:
        # The temporalio runtime can abort at interpreter exit; leave directly.
        os._exit(code)
    sys.exit(code)
