"""``sagaflow list`` and ``sagaflow show``."""

from __future__ import annotations

import json
from typing import Any

import typer

from sagaflow.cli import _state
from sagaflow.render import emit_json, err, out, table


async def _list(status: str | None, skill: str | None, limit: int) -> list[dict[str, Any]]:
    from sagaflow.runtime import runs
    from sagaflow.runtime.client import connect

    settings = _state.settings()
    runs.list_query(settings, status, None)  # validate before connecting
    client = await connect(settings)
    return await runs.list_runs(
        client, settings, status=status, skill=skill, workflow_type=None, limit=limit
    )


async def _show(run_id: str) -> dict[str, Any]:
    from sagaflow.runtime import runs
    from sagaflow.runtime.client import connect

    client = await connect(_state.settings())
    return await runs.show_run(client, run_id)


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_(
        status: str | None = typer.Option(
            None, "--status", help="running, completed, failed, canceled, terminated, timed_out."
        ),
        skill: str | None = typer.Option(None, "--skill", help="Only this skill."),
        limit: int = typer.Option(50, "--limit", help="At most this many runs."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List runs from Temporal, newest first."""
        import asyncio

        rows = asyncio.run(_list(status, skill, limit))
        if as_json:
            emit_json(rows)
        elif rows:
            table(rows, ["run_id", "skill", "status", "started", "closed"])
        else:
            err("no runs")

    @app.command()
    def show(
        run_id: str = typer.Argument(..., help="The run id."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show one run: status, skill, args, times, result or failure, steps."""
        import asyncio

        data = asyncio.run(_show(run_id))
        if as_json:
            emit_json(data)
            return
        out(f"run      {data['run_id']}")
        out(f"skill    {data['skill']}")
        out(f"status   {data['status']}")
        out(f"args     {json.dumps(data['args'])}")
        out(f"started  {data['started']}")
        out(f"closed   {data['closed'] or '-'}")
        out(f"steps    {data['steps_done']} done")
        for step in data["steps"]:
            error = f"  error: {step['error']}" if step["error"] else ""
            out(f"  - {step['step']:<22} {step['status']:<10} attempts {step['attempts']}{error}")
        if data["failure"]:
            out(f"failure  {data['failure']}")
        if data["result"] is not None:
            result = data["result"]
            out("result   " + (result if isinstance(result, str) else json.dumps(result)))
