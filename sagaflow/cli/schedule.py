"""``sagaflow schedule add|list|show|pause|unpause|trigger|rm``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, out, skill_args, table
from sagaflow.durations import format_duration
from sagaflow.pricing import format_usd

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)
T = TypeVar("T")


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    import asyncio

    return asyncio.run(make())


async def _client() -> Any:
    from sagaflow._engine.client import connect

    return await connect(_state.settings())


def _human(data: dict[str, Any], *, runs: bool) -> None:
    out(f"schedule  {data['name']}  ({data['schedule_id']})")
    out(f"skill     {data['skill']}  {skill_args(data['args'])}")
    out(f"cron      {data['cron']}  ({data['time_zone']})")
    out(f"overlap   {data['overlap']}   pool {data['pool']}"
        + (f"   transport {data['transport']}" if data.get("transport") else ""))
    limits = []  # what each run it starts may spend and take (shown only in --json before)
    if data.get("budget_usd") is not None:
        limits.append(f"budget {format_usd(data['budget_usd'])} per run")
    if data.get("timeout_seconds"):
        limits.append(f"timeout {format_duration(data['timeout_seconds'])}")
    if limits:
        out(f"limits    {' · '.join(limits)}")
    out(f"state     {'paused' if data['paused'] else 'active'}"
        + (f"  ({data['note']})" if data.get("note") else ""))
    out(f"next      {', '.join(data['next_runs']) or '-'}")
    if runs:
        for cal in data["spec"]["calendars"] + data["spec"]["intervals"]:
            out(f"spec      {cal}")
        out(f"actions   {data['actions']} taken, {data['skipped_overlap']} skipped (overlap)")
        for run in data["runs"]:
            out(f"  - {run['started_at']}  {run.get('run_id') or run['workflow_id']}  "
                f"{run.get('status', '-')}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="A name for the schedule."),
    skill: str = typer.Argument(..., metavar="SKILL", help="The skill to run."),
    cron: str = typer.Option(
        ..., "--cron", metavar="CRON", help="When to run, e.g. '0 9 * * *' (local time)."
    ),
    arg: list[str] = typer.Option(
        [], "--arg", "-a", metavar="KEY=VALUE", help="Skill argument key=value (repeatable)."
    ),
    overlap: str = typer.Option(
        "skip", "--overlap", metavar="MODE",
        help="When the previous run is still going: skip, buffer or allow.",
    ),
    pool: str | None = typer.Option(None, "--pool", metavar="NAME", help="Worker pool that runs it."),
    transport: str | None = typer.Option(
        None, "--transport", metavar="NAME",
        help="auto, anthropic, claude or scripted (default: the worker's).",
    ),
    budget_usd: str | None = typer.Option(
        None, "--budget-usd", metavar="USD", help="Spend cap per run, USD."
    ),
    timeout: str | None = typer.Option(
        None, "--timeout", metavar="DURATION", help="Whole-run timeout, e.g. 2h."
    ),
    tz: str | None = typer.Option(
        None, "--tz", metavar="ZONE", help="IANA time zone (default: this machine's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run a skill on a cron schedule (a Temporal Schedule).

    Skill arguments are free --key value options or --arg key=value, as for launch.
    """
    from sagaflow.runs import schedules
    from sagaflow.skills.args import parse_skill_args

    req = schedules.ScheduleRequest(
        name=name, skill=skill, cron=cron, args=parse_skill_args(list(arg), list(ctx.args)),
        overlap=overlap, pool=pool, budget_usd=budget_usd, timeout=timeout, time_zone=tz,
        transport=transport,
    )
    data = _run(lambda: schedules.add(_state.home(), _state.settings(), req, err))
    if as_json:
        emit_json(data)
    else:
        out(data["name"])
        err(f"schedule {data['name']}: {data['skill']} at '{data['cron']}' ({data['time_zone']}); "
            f"next {data['next_runs'][0] if data['next_runs'] else '-'}")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List schedules with their next and last runs."""
    from sagaflow.runs import schedules

    async def go() -> list[dict[str, Any]]:
        return await schedules.list_all(await _client(), _state.settings())

    rows = _run(go)
    if as_json:
        emit_json(rows)
    elif rows:
        table([
            {**r, "next": r["next_runs"][0] if r["next_runs"] else None,
             "last": r["recent"][-1]["started_at"] if r["recent"] else None}
            for r in rows
        ], ["name", "skill", "cron", "paused", "next", "last"])
    else:
        err("no schedules ('sagaflow schedule add NAME SKILL --cron ...' creates one)")


@app.command()
def show(
    name: str = typer.Argument(..., help="The schedule name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a schedule: spec, policy, state and the runs it started."""
    from sagaflow.runs import schedules

    async def go() -> dict[str, Any]:
        return await schedules.show(await _client(), name)

    data = _run(go)
    if as_json:
        emit_json(data)
    else:
        _human(data, runs=True)


def _set_paused(name: str, paused: bool, note: str | None, as_json: bool) -> None:
    from sagaflow.runs import schedules

    async def go() -> dict[str, Any]:
        return await schedules.set_paused(await _client(), name, paused, note)

    data = _run(go)
    if as_json:
        emit_json(data)
    else:
        out(data["name"])
        err(f"schedule {name} {'paused' if paused else 'unpaused'}")


@app.command()
def pause(
    name: str = typer.Argument(..., help="The schedule name."),
    note: str | None = typer.Option(None, "--note", help="Why (shown by list and show)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stop a schedule from firing (runs already started keep going)."""
    _set_paused(name, True, note, as_json)


@app.command()
def unpause(
    name: str = typer.Argument(..., help="The schedule name."),
    note: str | None = typer.Option(None, "--note", help="Why (shown by list and show)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Let a paused schedule fire again."""
    _set_paused(name, False, note, as_json)


@app.command()
def trigger(
    name: str = typer.Argument(..., help="The schedule name."),
    overlap: str | None = typer.Option(
        None, "--overlap", help="Override the overlap policy for this run: skip, buffer, allow."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run the schedule's skill now; prints the new run id."""
    from sagaflow.runs import schedules

    data = _run(lambda: schedules.trigger(
        _state.home(), _state.settings(), name, overlap=overlap, notice=err
    ))
    if as_json:
        emit_json(data)
    elif data["skipped"]:
        err(f"schedule {name}: skipped, its previous run is still going (overlap policy); "
            "pass --overlap allow to run anyway")
    elif data["run_id"]:
        out(data["run_id"])
    else:
        err(f"schedule {name} triggered; the run has not started yet "
            f"('sagaflow schedule show {name}' lists it once it does)")


@app.command()
def rm(
    name: str = typer.Argument(..., help="The schedule name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Delete a schedule (runs it already started keep going)."""
    from sagaflow.runs import schedules

    async def go() -> dict[str, Any]:
        return await schedules.remove(await _client(), name)

    data = _run(go)
    if as_json:
        emit_json(data)
    else:
        out(name)
        err(f"schedule {name} removed")
