"""``sagaflow cost``: spend on model calls by skill or by day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, table

if TYPE_CHECKING:
    from sagaflow.runs.costs import CostReport, CostRequest


async def _report(request: CostRequest) -> CostReport:
    from sagaflow._engine.client import ensure_temporal
    from sagaflow.runs.costs import cost_report

    settings = _state.settings()
    client = await ensure_temporal(settings)
    return await cost_report(client, settings, request)


def register(app: typer.Typer) -> None:
    @app.command()
    def cost(
        since: str = typer.Option("7d", "--since", help="Runs started in this window (30m, 2h, 7d)."),
        by: str = typer.Option("skill", "--by", help="Group by skill or by day (local start date)."),
        skill: str | None = typer.Option(None, "--skill", help="Only runs of this skill."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Total model spend of runs, from each run's SagaflowCostUsd."""
        import asyncio

        from sagaflow.pricing import format_usd
        from sagaflow.runs.costs import make_request

        report = asyncio.run(_report(make_request(since=since, by=by, skill=skill)))
        if as_json:
            emit_json(report)
            return
        if not report["rows"]:
            err(f"no runs since {report['since']}")
            return
        rows = [
            {report["by"]: r["key"], "runs": r["runs"], "cost": format_usd(r["cost_usd"])}
            for r in report["rows"]
        ]
        total = report["total"]
        rows.append({report["by"]: "total", "runs": total["runs"], "cost": format_usd(total["cost_usd"])})
        table(rows, [report["by"], "runs", "cost"])
