"""``sagaflow list`` (``show`` lives in :mod:`sagaflow.cli.observe`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, table

if TYPE_CHECKING:
    from sagaflow.runs.listing import RunFilter, RunRow


async def _list(flt: RunFilter) -> list[RunRow]:
    from sagaflow.runs.observe import list_rows

    return await list_rows(_state.settings(), _state.home(), flt)


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_(
        status: str | None = typer.Option(
            None, "--status",
            help="running, completed, failed, canceled, terminated, timed_out (comma-separated).",
        ),
        skill: str | None = typer.Option(None, "--skill", help="Only runs of this skill."),
        since: str | None = typer.Option(
            None, "--since", help="Only runs started in this window, e.g. 30m, 2h, 7d."
        ),
        failed: bool = typer.Option(
            False, "--failed",
            help="The failed-run queue: runs whose latest attempt failed or timed out "
            "and that nobody retried or dismissed.",
        ),
        waiting: bool = typer.Option(
            False, "--waiting", help="Running runs parked on an approval, a signal or a pause."
        ),
        pool: str | None = typer.Option(None, "--pool", help="Only runs on this worker pool."),
        limit: int = typer.Option(50, "--limit", help="At most this many runs."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List runs from Temporal: running first, then the most recently closed."""
        import asyncio

        from sagaflow.pricing import format_usd
        from sagaflow.runs.listing import make_filter, state_label

        flt = make_filter(
            status=status, skill=skill, since=since, failed=failed, waiting=waiting,
            pool=pool, limit=limit,
        )
        rows = asyncio.run(_list(flt))
        if as_json:
            emit_json(rows)
        elif rows:
            shown = [
                dict(r, state=state_label(r), cost=format_usd(r["cost_usd"])) for r in rows
            ]
            table(shown, ["run_id", "skill", "status", "state", "cost", "started", "closed"])
            for note in dict.fromkeys(r["worker"] for r in rows if r.get("worker")):
                err(str(note))
        else:
            err("no runs")
