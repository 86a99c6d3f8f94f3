"""What ``sagaflow launch`` does once its arguments are parsed (no Typer here).

Shared by the Typer command and the fast path in :mod:`sagaflow.cli.main`, which
parses ``launch`` directly so the hottest command skips the CLI framework's
import and parsing cost.
"""

from __future__ import annotations

import json

from sagaflow.cli.render import StatusLine, emit_json, err, out

FLAG_OPTIONS = {"--await": "wait", "--json": "as_json"}
VALUE_OPTIONS = {
    "--arg": "arg", "-a": "arg", "--id": "run_id", "--transport": "transport",
    "--pool": "pool", "--budget-usd": "budget_usd", "--timeout": "timeout",
    "--if-exists": "if_exists",
}


def parse_fast(argv: list[str]) -> dict[str, object] | None:
    """Parse ``launch SKILL ...`` like the Typer command does, or None to defer to it."""
    if not argv or argv[0] != "launch" or any(a in ("--help", "-h") for a in argv):
        return None
    parsed: dict[str, object] = {"arg": [], "extra": [], "wait": False, "as_json": False,
                                 "run_id": None, "transport": None, "skill": None,
                                 "pool": None, "budget_usd": None, "timeout": None,
                                 "if_exists": None}
    rest = argv[1:]
    i = 0
    while i < len(rest):
        token = rest[i]
        name, eq, inline = token.partition("=")
        if token in FLAG_OPTIONS:
            parsed[FLAG_OPTIONS[token]] = True
        elif name in VALUE_OPTIONS:
            if eq:
                value = inline
            elif i + 1 < len(rest):
                i += 1
                value = rest[i]
            else:
                return None  # let the framework report the missing value
            key = VALUE_OPTIONS[name]
            if key == "arg":
                parsed["arg"].append(value)  # type: ignore[attr-defined]
            else:
                parsed[key] = value
        elif parsed["skill"] is None and not token.startswith("-"):
            parsed["skill"] = token
        else:
            parsed["extra"].append(token)  # type: ignore[attr-defined]
        i += 1
    return parsed if parsed["skill"] is not None else None


def run_launch(
    skill: str,
    arg: list[str],
    extra: list[str],
    *,
    wait: bool,
    run_id: str | None,
    transport: str | None,
    as_json: bool,
    pool: str | None = None,
    budget_usd: str | None = None,
    timeout: str | None = None,
    if_exists: str | None = None,
    address: str | None = None,
    namespace: str | None = None,
    profile: str | None = None,
) -> int:
    """Launch and render; returns the exit code."""
    import asyncio

    from sagaflow.config import load_settings
    from sagaflow.paths import Home
    from sagaflow.runs.launch import launch, launch_options
    from sagaflow.skills.prepare import parse_skill_args

    options = launch_options(pool, budget_usd, timeout, if_exists)
    args = parse_skill_args(list(arg), list(extra))
    home = Home.current()
    settings = load_settings(home).with_overrides(
        address=address, namespace=namespace, profile=profile
    )
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
                home, settings, skill, args, run_id=run_id, transport=transport, wait=wait,
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
    if as_json:
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
