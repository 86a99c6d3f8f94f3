"""``cancel``, ``terminate``, ``signal``, ``approve``, ``reject``, ``pause``, ``unpause``.

The work is in :mod:`sagaflow.runs.steer`; each command prints one line (or
the returned dict with ``--json``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import typer

from sagaflow.cli import _state
from sagaflow.cli.params import run_argument
from sagaflow.cli.render import emit_json, out

if TYPE_CHECKING:
    from temporalio.client import Client

    from sagaflow.runs.reach import Local

Call = Callable[["Client", "Local"], Awaitable[dict[str, Any]]]

JSON_HELP = "Print JSON."
BY_HELP = "Who decides (default: your OS user name)."


def _run(call: Call) -> dict[str, Any]:
    """Connect (starting the embedded server if needed) and run one steering call."""
    import asyncio

    from sagaflow._engine.client import ensure_temporal
    from sagaflow.cli.render import err
    from sagaflow.runs.reach import Local

    async def go() -> dict[str, Any]:
        settings = _state.settings()
        client = await ensure_temporal(settings)
        return await call(client, Local(_state.home(), settings, err))

    return asyncio.run(go())


def _say(result: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        emit_json(result)
    else:
        out(line)


def _why(reason: str) -> str:
    return f" ({reason})" if reason else ""


def register(app: typer.Typer) -> None:
    @app.command()
    def cancel(
        run_id: str = run_argument(),
        reason: str = typer.Option("", "--reason", help="Why (recorded with the request)."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Cancel a run cooperatively: in-flight steps are abandoned, compensations run."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.cancel(c, run_id, reason, local=loc))
        _say(result, as_json, f"cancel requested for {run_id}{_why(reason)}; "
             "it stops at its next step and runs its compensations")

    @app.command()
    def terminate(
        run_id: str = run_argument(),
        reason: str = typer.Option(..., "--reason", help="Why (required; recorded)."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Stop a run at once (no compensation); prefer cancel."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.terminate(c, run_id, reason, local=loc))
        _say(result, as_json, f"terminated {run_id} ({reason})")

    @app.command()
    def signal(
        run_id: str = run_argument(),
        name: str = typer.Argument(..., help="Signal name (what the skill waits for)."),
        payload: str | None = typer.Argument(None, help="JSON payload, e.g. '{\"ok\": true}'."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Send a signal (with an optional JSON payload) to a run."""
        from sagaflow.runs import steer

        steer.parse_payload(payload)  # bad JSON fails before connecting
        result = _run(lambda c, _loc: steer.signal(c, run_id, name, payload))
        _say(result, as_json, f"sent signal {name} to {run_id}")

    @app.command()
    def approve(
        run_id: str = run_argument(),
        step: str = typer.Option("", "--step", help="The approval to answer, when several wait."),
        comment: str = typer.Option("", "--comment", help="A note kept with the decision."),
        by: str = typer.Option("", "--by", help=BY_HELP),
        extend_budget: float | None = typer.Option(
            None, "--extend-budget", help="Dollars to add to a run parked on its budget."
        ),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Approve what a run waits on (an approval step, or its budget)."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.approve(
            c, run_id, step, comment, by, extend_budget, local=loc))
        from sagaflow.pricing import format_usd

        extra = f", budget +{format_usd(extend_budget)}" if extend_budget else ""
        _say(result, as_json,
             f"approved {result['step']} of {run_id} (by {result['by']}{extra})")

    @app.command()
    def reject(
        run_id: str = run_argument(),
        reason: str = typer.Option(..., "--reason", help="Why (required; the run sees it)."),
        step: str = typer.Option("", "--step", help="The approval to answer, when several wait."),
        by: str = typer.Option("", "--by", help=BY_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Reject what a run waits on."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.reject(c, run_id, step, reason, by, local=loc))
        _say(result, as_json, f"rejected {result['step']} of {run_id} (by {result['by']}): {reason}")

    @app.command()
    def pause(
        run_id: str = run_argument(),
        reason: str = typer.Option("", "--reason", help="Why (shown in the run's status)."),
        by: str = typer.Option("", "--by", help=BY_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Pause a run: it stops before its next step (the one in flight finishes)."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.pause(c, run_id, reason, by, local=loc))
        _say(result, as_json, f"paused {run_id}; 'sagaflow unpause {run_id}' resumes it")

    @app.command()
    def unpause(
        run_id: str = run_argument(),
        by: str = typer.Option("", "--by", help=BY_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Resume a paused run."""
        from sagaflow.runs import steer

        result = _run(lambda c, loc: steer.unpause(c, run_id, "", by, local=loc))
        _say(result, as_json, f"unpaused {run_id}")
