"""What ``show`` and ``list`` read: Temporal's view of runs, with the home's notes.

Both also reconcile the inbox (:mod:`sagaflow.runs.inboxsync`): an entry that asks for
an action closes once Temporal says its run no longer waits, whoever ended it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagaflow.config import Settings
    from sagaflow.paths import Home
    from sagaflow.runs.listing import RunFilter, RunRow
    from sagaflow.runs.timeline import Timeline


async def show_run(settings: Settings, home: Home, run_id: str) -> Timeline:
    """One run's timeline (:func:`sagaflow.runs.timeline.build_timeline`), plus ``worker``:
    for a running run whose pool no worker serves, ``waiting for a worker of pool P ...``.

    Raises:
        RunNotFoundError: No run has this id.
        TemporalError: Temporal does not answer (retryable).
    """
    from sagaflow._engine.client import connect
    from sagaflow.runs.inboxsync import reconcile
    from sagaflow.runs.pools import waiting_notes
    from sagaflow.runs.timeline import build_timeline

    client = await connect(settings)
    data = await build_timeline(client, run_id)
    queue = data["task_queue"]
    if data["status"] == "running" and queue:
        notes = await waiting_notes(client, settings, home, {queue})
        data["worker"] = notes.get(queue, "")
    await reconcile(client, home, [run_id])  # its entries, if it no longer waits
    return data


async def list_rows(settings: Settings, home: Home, flt: RunFilter) -> list[RunRow]:
    """The runs ``flt`` selects (:func:`sagaflow.runs.listing.list_runs`), starting the
    embedded server if needed.

    Raises:
        UsageError: A filter Temporal's visibility store rejects.
        TemporalError: Temporal does not answer (retryable).
    """
    from sagaflow._engine.client import ensure_temporal
    from sagaflow.runs import listing
    from sagaflow.runs.inboxsync import reconcile

    client = await ensure_temporal(settings)
    rows = await listing.list_runs(client, settings, flt, home)
    await reconcile(client, home)  # entries of runs that no longer wait
    return rows
