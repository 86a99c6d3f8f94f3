"""``sagaflow show``, ``sagaflow tail`` and ``sagaflow logs``: observing one run."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from sagaflow.cli import _state
from sagaflow.cli.params import run_argument
from sagaflow.cli.render import emit_json, err, out, paint, skill_args, status_style, word

if TYPE_CHECKING:
    from sagaflow.runs.follow import Event
    from sagaflow.runs.timeline import Step, Timeline


async def _timeline(run_id: str) -> Timeline:
    from sagaflow.runs.observe import show_run

    return await show_run(_state.settings(), _state.home(), run_id)


async def _follow(run_id: str, as_json: bool) -> Event:
    from sagaflow._engine.client import connect
    from sagaflow.runs.follow import follow, format_event

    def emit(event: Event) -> None:
        line = json.dumps(event, default=str) if as_json else format_event(event)
        if line is not None:
            out(line)
            sys.stdout.flush()

    return await follow(await connect(_state.settings()), run_id, emit)


def _money(value: Any) -> str:
    from sagaflow.pricing import format_usd

    return format_usd(float(value)) if isinstance(value, int | float) else "-"


def _secs(value: Any) -> str:
    return f"{value:.2f}s" if isinstance(value, int | float) else "-"


def _step_line(step: Step) -> tuple[str, str, str]:
    """A step's line as (head, painted status, tail): parts for :func:`out`."""
    label = step["type"] + (f"({step['role']})" if step["role"] else "")
    tokens = [step["input_tokens"], step["output_tokens"]]
    head = f"  #{step['id']:<4} {label:<28} "
    status = paint(step["status"].ljust(13), status_style(step["status"]))
    parts = [
        f" +{_secs(step['offset_seconds']):<8} {_secs(step['duration_seconds']):<8} x{step['attempts']}",
    ]
    if any(t is not None for t in tokens):
        parts.append(f"{sum(t or 0 for t in tokens)} tok {_money(step['cost_usd'])}")
    elif step["cost_usd"]:  # a failed model step's paid attempts: no tokens in history
        parts.append(f"paid {_money(step['cost_usd'])}")
    if step.get("stop_reason") not in (None, "", "end_turn"):
        parts.append(f"stop_reason {step.get('stop_reason')}")
    next_retry = step["next_retry_in_seconds"]
    if next_retry is not None:
        parts.append(f"next retry in {next_retry:.0f}s")
    if step["error"]:
        parts.append(f"error: {step['error']}")
    return head, status, " · ".join(parts)


def _render_timeline(data: Timeline) -> None:
    state = f" (state {data['state']})" if data["state"] and data["state"] != data["status"] else ""
    tokens = data["tokens"]
    out(f"run       {data['run_id']}")
    out(f"skill     {word(data['skill'])}")
    if data["build"]:
        out(f"build     {data['build']}")
    out("status    ", paint(data["status"], status_style(data["status"])), state)
    if data.get("blocked"):
        out("blocked   ", paint(str(data["blocked"]), status_style("FAIL")))
    out(f"args      {skill_args(data['args'])}")
    out(f"started   {word(data['started'])}")
    out(f"closed    {data['closed'] or '-'}  (duration {_secs(data['duration_seconds'])})")
    out(f"cost      {_money(data['cost_usd'])} · {tokens['total']} tokens "
        f"({tokens['input_tokens']} in, {tokens['output_tokens']} out)")
    if data["worker"]:
        out(f"worker    {data['worker']}")
    if data["waiting_on"]:
        from sagaflow.runs.gates import gate_commands

        answer = gate_commands(data["run_id"], data["waiting_on"])
        how = f" · {answer.split('; ', 1)[1]}" if answer and "; " in answer else ""
        out(f"waiting   {data['waiting_on']}{how}")
    paused = data.get("paused")
    if paused:
        who = f" by {word(paused.get('by'))}" if paused.get("by") else ""
        why = f": {word(paused.get('reason'))}" if paused.get("reason") else ""
        since = f" (since {word(paused.get('at'))})" if paused.get("at") else ""
        out(f"paused    {who.strip() or 'yes'}{why}{since}")
    for gate in data["pending_gates"]:
        out(f"gate      {word(gate.get('step'))} ({word(gate.get('kind'))}): {word(gate.get('prompt'))}")
    agent = data.get("agent")
    if agent:
        out(f"agent     {agent['turns']} turns, {agent['tool_calls']} tool calls; "
            f"transcript {agent['transcript']}")
        marks = {"completed": "x", "in_progress": "~"}
        for todo in agent["todos"]:
            out(f"  todo    [{marks.get(todo['status'], ' ')}] {todo['content']}")
        if agent["question"]:
            out(f"question  {agent['question']['text']}  (sagaflow answer {data['run_id']} ...)")
    out(f"steps     {data['steps_done']} done of {len(data['steps'])}")
    for step in data["steps"]:
        out(*_step_line(step))
    for name in dict.fromkeys(f["type"] for f in data["framework"]):
        out(f"  framework {name}")
    for error in data["workflow_errors"][-1:]:
        out(f"workflow task error: {error}")
    for decision in data["decisions"]:
        verdict = "approved" if decision.get("approved") else "rejected"
        who = f" by {decision['by']}" if decision.get("by") else ""
        out(f"decision  {decision.get('step') or '-'} {verdict}{who} {decision.get('reason') or ''}".rstrip())
    if data["failure"]:
        out(f"failure   {data['failure']}")
    if data["result"] is not None:
        result = data["result"]
        out("result    " + (result if isinstance(result, str) else json.dumps(result)))


def register(app: typer.Typer) -> None:
    @app.command()
    def show(
        run_id: str = run_argument(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show a run's timeline: steps, attempts, errors, tokens, cost, what it waits on."""
        import asyncio

        data = asyncio.run(_timeline(run_id))
        if as_json:
            emit_json(data)
        else:
            _render_timeline(data)

    @app.command()
    def tail(
        run_id: str = run_argument(),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object per line."),
    ) -> None:
        """Follow a run live until it ends (exit 0 completed, 1 otherwise; Ctrl-C detaches)."""
        import asyncio

        try:
            finished = asyncio.run(_follow(run_id, as_json))
        except KeyboardInterrupt:
            err(f"detached; the run goes on (follow it again with 'sagaflow tail {run_id}')")
            raise typer.Exit(130) from None
        if finished["status"] != "completed":
            raise typer.Exit(1)

    @app.command()
    def logs(
        run_id: str = run_argument(),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C stops)."),
    ) -> None:
        """Print the worker log lines of a run, from every log file, in time order."""
        from sagaflow.runs import logs as runlogs

        home = _state.home()
        records = runlogs.run_log_records(home, _state.settings(), run_id)
        if as_json and not follow:
            emit_json(records)
        else:
            for record in records:
                out(json.dumps(record) if as_json else runlogs.compact(record))
        if not records:
            err(f"no log lines for {run_id} in {home.logs}")
        if follow:
            def emit(record: dict[str, Any]) -> None:
                out(json.dumps(record) if as_json else runlogs.compact(record))
                sys.stdout.flush()

            sys.stdout.flush()
            try:
                runlogs.follow_records(home, run_id, emit)
            except KeyboardInterrupt:
                raise typer.Exit(130) from None
