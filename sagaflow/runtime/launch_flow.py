"""The whole of ``sagaflow launch`` as one library call."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagaflow.config import Settings
from sagaflow.discovery import fingerprint, load_skills
from sagaflow.errors import HookError
from sagaflow.launcher import prepare
from sagaflow.paths import Home
from sagaflow.runtime import daemon, runs
from sagaflow.runtime.client import ensure_temporal

HOOK_MARKER = "hook-offered"


@dataclass
class LaunchOutcome:
    run_id: str
    skill: str
    transport: str
    started: bool
    waited: bool = False
    result: Any = None


def offer_hook(home: Home, notice: Callable[[str], None]) -> None:
    """Install the SessionStart hook on the first launch (once per home)."""
    marker = home.root / HOOK_MARKER
    if os.environ.get("SAGAFLOW_NO_HOOK") == "1" or marker.exists():
        return
    from sagaflow import hook

    try:
        change = hook.install(home)
        if change.changed:
            notice(f"{change.message} ('sagaflow hook uninstall' removes it; "
                   "SAGAFLOW_NO_HOOK=1 skips this)")
    except HookError as exc:
        notice(f"warning: {exc.message}")
    marker.write_text("1", encoding="utf-8")


async def launch(
    home: Home,
    settings: Settings,
    skill: str,
    args: dict[str, str],
    *,
    run_id: str | None = None,
    transport: str | None = None,
    wait: bool = False,
    notice: Callable[[str], None] = lambda _msg: None,
    progress: Callable[[str], None] | None = None,
    on_started: Callable[[str], None] = lambda _rid: None,
) -> LaunchOutcome:
    """Validate, make sure server and worker are up, start or attach, maybe await."""
    home.ensure(home.runs, home.logs)
    loaded = load_skills()
    prepared = prepare(home, settings, loaded, skill, args, run_id=run_id, transport=transport)
    offer_hook(home, notice)
    client = await ensure_temporal(settings)
    pid, action = daemon.ensure_worker(home, settings, fingerprint(loaded.sources))
    if action != "running":
        notice(f"worker {action} (pid {pid}); log: {home.worker_log}")
    handle, fresh = await runs.start(client, settings, prepared)
    if not fresh:
        notice(f"attached to open run {prepared.run_id}")
    on_started(prepared.run_id)
    outcome = LaunchOutcome(prepared.run_id, skill, prepared.record.transport, fresh)
    if wait:
        outcome.result = await runs.await_result(handle, progress)
        outcome.waited = True
    return outcome
