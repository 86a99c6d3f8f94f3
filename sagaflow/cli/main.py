"""Process entry point: error policy, clean exit, and the ``launch`` fast path.

``sagaflow launch`` is the command users wait on most, so when it is the first
word (no global options, no ``--help``) its arguments are parsed here and the
CLI framework is never imported. Everything else goes through Typer.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from sagaflow.cli.render import err
from sagaflow.errors import SagaflowError


def verbose_requested(argv: list[str]) -> bool:
    return "--verbose" in argv or "-v" in argv[:1] or bool(os.environ.get("SAGAFLOW_VERBOSE"))


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
    from sagaflow.cli.launching import parse_fast

    fast = parse_fast(argv)
    if fast is None:
        from sagaflow.cli.app import run as run_cli

        return run_cli(argv)

    def call() -> int:
        from sagaflow.cli.launching import run_launch

        return run_launch(
            str(fast["skill"]), list(fast["arg"]), list(fast["extra"]),  # type: ignore[call-overload]
            wait=bool(fast["wait"]), run_id=fast["run_id"],  # type: ignore[arg-type]
            transport=fast["transport"], as_json=bool(fast["as_json"]),  # type: ignore[arg-type]
            pool=fast["pool"], budget_usd=fast["budget_usd"],  # type: ignore[arg-type]
            timeout=fast["timeout"], if_exists=fast["if_exists"],  # type: ignore[arg-type]
        )

    return guarded(call, verbose_requested(argv))


def main() -> None:
    """Console-script entry point."""
    code = run(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    if "temporalio" in sys.modules:
        # The temporalio runtime can abort at interpreter exit; leave directly.
        os._exit(code)
    sys.exit(code)
