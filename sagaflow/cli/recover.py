"""``sagaflow retry`` and ``sagaflow purge`` (the work is in :mod:`sagaflow.runtime`)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from sagaflow.cli import _state
from sagaflow.cli.params import run_argument
from sagaflow.cli.render import emit_json, err, out, table
from sagaflow.errors import UsageError

if TYPE_CHECKING:
    from sagaflow.runs.purge import PurgePlan

PURGE_COLUMNS = ["run_id", "skill", "status", "closed", "attempts"]


async def _retry(run_id: str, wait: bool) -> dict[str, Any]:
    from sagaflow._engine.client import ensure_temporal
    from sagaflow.cli.render import StatusLine
    from sagaflow.runs import recover
    from sagaflow.runs.reach import Local

    settings = _state.settings()
    client = await ensure_temporal(settings)
    status = StatusLine(f"run {run_id}") if wait else None
    try:
        return await recover.retry(
            client, run_id, local=Local(_state.home(), settings, err), wait=wait,
            progress=status.update if status else None,
        )
    finally:
        if status:
            status.clear()


def _show_plan(plan: PurgePlan, to_stderr: bool) -> None:
    rows = [
        {"run_id": i.run_id, "skill": i.skill, "status": i.status, "closed": i.closed,
         "attempts": len(i.temporal_runs)}
        for i in plan.items
    ]
    if not to_stderr:
        table(rows, PURGE_COLUMNS)
        return
    saved, sys.stdout = sys.stdout, sys.stderr
    try:
        table(rows, PURGE_COLUMNS)
    finally:
        sys.stdout = saved


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


def _confirm(plan: PurgePlan, yes: bool, as_json: bool) -> bool:
    """Whether to go ahead: --yes, or a 'y' typed on a terminal."""
    count = len(plan.items)
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            f"Not deleting {_runs(count)} without confirmation "
            "(stdin is not a terminal); pass --yes to delete them."
        )
    if as_json:
        _show_plan(plan, to_stderr=True)
    sys.stderr.write(f"Delete {_runs(count)} from Temporal, with run dirs? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


async def _purge(older_than: float, failed: bool, yes: bool, as_json: bool) -> dict[str, Any]:
    from sagaflow._engine.client import ensure_temporal
    from sagaflow.runs import purge

    settings = _state.settings()
    client = await ensure_temporal(settings)
    plan = await purge.plan_purge(
        client, settings, older_than, failed, inbox_path=_state.home().inbox
    )
    report: dict[str, Any] = {**plan.to_dict(), "deleted": None}
    if not plan.items:
        return report
    if not as_json:
        _show_plan(plan, to_stderr=False)
    try:
        go = _confirm(plan, yes, as_json)
    except UsageError:
        if as_json:
            emit_json(report)
        raise
    if go:
        report["deleted"] = await purge.purge(client, _state.home(), plan)
    return report


def register(app: typer.Typer) -> None:
    @app.command()
    def retry(
        run_id: str = run_argument("The run id of a failed, timed-out or cancelled run."),
        wait: bool = typer.Option(False, "--await", help="Wait for the new attempt's result."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Re-drive a run that ended without a result; completed steps are reused, not re-paid."""
        import asyncio

        result = asyncio.run(_retry(run_id, wait))
        if as_json:
            emit_json(result)
            return
        err(f"retrying {run_id} (was {result['previous_status']})")
        err(f"  reused:  {', '.join(result['reused']) or 'nothing'}")
        err(f"  re-run:  {', '.join(result['rerun']) or 'the rest of the run'}")
        if result.get("worker"):
            err(str(result["worker"]))
        if "result" in result:
            value = result["result"]
            out(value if isinstance(value, str) else json.dumps(value))
        else:
            out(run_id)

    @app.command()
    def purge(
        older_than: str = typer.Option(
            ..., "--older-than", help="Runs closed longer ago than this, e.g. 30d, 12h (0s: all)."
        ),
        failed: bool = typer.Option(
            False, "--failed", help="Only the failed-run queue (what 'list --failed' shows)."
        ),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Delete old closed runs from Temporal and their run dirs (open runs are never touched)."""
        import asyncio

        from sagaflow.durations import parse_duration

        seconds = parse_duration(older_than, option="--older-than", allow_zero=True)
        report = asyncio.run(_purge(seconds, failed, yes, as_json))
        if as_json:
            emit_json(report)
            return
        deleted = report["deleted"]
        if not report["items"]:
            err("nothing to purge")
        elif deleted is None:
            err("nothing deleted")
        else:
            dirs = deleted["run_dirs"]
            out(f"deleted {_runs(deleted['runs'])} from Temporal and {dirs} run "
                f"dir{'' if dirs == 1 else 's'}; Temporal drops them from its lists shortly")
            for run_id in deleted["skipped"]:
                err(f"skipped {run_id}: it changed since the listing")
            for line in deleted["errors"]:
                err(f"error: {line}")
        if deleted and deleted["errors"]:
            raise typer.Exit(1)
