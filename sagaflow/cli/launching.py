"""What ``sagaflow launch`` does once its arguments are parsed (no Typer here).

Shared by the Typer command and the fast path in :mod:`sagaflow.cli.main`; both
hand over a :class:`~sagaflow.cli.options.LaunchCall` parsed from the same tables.
"""

from __future__ import annotations

import json

from sagaflow.cli.options import LaunchCall
from sagaflow.cli.render import StatusLine, emit_json, err, out


def run_launch(call: LaunchCall) -> int:
    """Launch and render; returns the exit code."""
    import asyncio

    from sagaflow.cli._state import with_root
    from sagaflow.config import load_settings
    from sagaflow.paths import Home
    from sagaflow.runs.launch import launch, launch_options
    from sagaflow.skills.args import parse_skill_args

    skill, wait, run_id = call.skill, call.wait, call.run_id
    options = launch_options(call.pool, call.budget_usd, call.timeout, call.if_exists,
                             lint=not call.no_lint)
    args = parse_skill_args(list(call.arg), list(call.extra))
    home = Home.current()
    settings = with_root(load_settings(home), call.root)
    status = StatusLine(skill)
    chosen: list[str] = []

    def started(rid: str) -> None:
        chosen.append(rid)
        status.prefix = rid
        if wait:
            err(f"run {rid}")

    try:
        outcome = asyncio.run(
            launch(
                home, settings, skill, args, run_id=run_id, transport=call.transport, wait=wait,
                notice=err, progress=status.update if wait else None, on_started=started,
                options=options,
            )
        )
    except KeyboardInterrupt:
        status.clear()
        rid = chosen[0] if chosen else run_id
        if rid:
            err(f"detached; run {rid} keeps going. 'sagaflow show {rid}' tracks it, "
                f"'sagaflow launch {skill} --id {rid} --await' re-attaches.")
        return 130
    finally:
        status.clear()
    if call.as_json:
        emit_json({
            "run_id": outcome.run_id, "skill": outcome.skill,
            "started": outcome.started, "transport": outcome.transport,
            **({"status": "completed", "result": outcome.result} if outcome.waited else {}),
        })
        return 0
    if not outcome.waited:
        out(outcome.run_id)
        return 0
    if outcome.transport == "scripted":
        err("note: replies were scripted (transport 'scripted'); no model was called")
    result = outcome.result
    out(result if isinstance(result, str) else json.dumps(result, indent=2, default=str))
    return 0
