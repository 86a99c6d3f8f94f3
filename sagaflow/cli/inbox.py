"""``sagaflow inbox`` and ``sagaflow dismiss``.

Whatever INBOX.md holds, ``inbox`` lists every well-formed entry, then names each
garbled region once on stderr and exits 1; entry text is printed through
:mod:`sagaflow.cli.render`, so escape sequences in model output are shown, not run.

When an unread entry asks for an action (NEEDS APPROVAL), ``inbox`` first checks
those runs against Temporal (:func:`sagaflow.runs.inboxsync.reconcile`, at most
:data:`CHECK_SECONDS`, never starting a server): a run ended behind sagaflow's back
no longer offers an approve command. Otherwise it imports no Temporal code.
"""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, out
from sagaflow.errors import UsageError
from sagaflow.runrecord import check_run_id

PROBLEMS_SHOWN = 5
CHECK_SECONDS = 5.0


def _reconcile_waiting() -> None:
    """Retire entries of runs that no longer wait (best effort: any failure is ignored,
    the entries are then shown as they are)."""
    import asyncio
    import contextlib

    async def go() -> None:
        from sagaflow._engine.client import connect
        from sagaflow.runs.inboxsync import reconcile

        client = await connect(_state.settings())
        await reconcile(client, _state.home())

    with contextlib.suppress(Exception):
        asyncio.run(asyncio.wait_for(go(), CHECK_SECONDS))


def register(app: typer.Typer) -> None:
    @app.command()
    def inbox(
        show_all: bool = typer.Option(False, "--all", help="Include dismissed entries."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List unread results (newest first)."""
        from sagaflow import inbox as lib
        from sagaflow.inbox_format import WAITING_STATUSES

        path = _state.home().inbox
        entries, problems = lib.read(path)
        if any(e.unread and e.status in WAITING_STATUSES for e in entries):
            _reconcile_waiting()
            entries, problems = lib.read(path)
        shown = [e for e in reversed(entries) if show_all or e.unread]
        if as_json:
            emit_json([e.to_dict() for e in shown])
        elif not shown:
            err("inbox empty" if show_all else "no unread results ('sagaflow inbox --all' shows all)")
        for entry in shown if not as_json else []:
            mark = "●" if entry.unread else " "
            note = f"  ({entry.note})" if entry.note else ""
            status = entry.status.replace("_", " ")
            out(f"{mark} {status:<8} {entry.skill}  {entry.run_id}  {entry.timestamp}{note}")
            for line in entry.summary.split("\n"):
                out(f"    {line}")
        for problem in problems[:PROBLEMS_SHOWN]:
            if problem.size == 1:
                err(f"sagaflow: {path} line {problem.line} is not a sagaflow entry and was "
                    "skipped; fix or delete that line.")
            else:
                err(f"sagaflow: {path} lines {problem.line}-{problem.last} are not sagaflow "
                    "entries and were skipped; fix or delete those lines.")
        hidden = len(problems) - PROBLEMS_SHOWN
        if hidden > 0:
            regions = "region was" if hidden == 1 else "regions were"
            err(f"sagaflow: {hidden} more damaged {regions} skipped in {path}.")
        if problems:
            raise typer.Exit(1)

    @app.command()
    def dismiss(
        run_ids: list[str] = typer.Argument(None, help="Run ids to mark read."),
        dismiss_all: bool = typer.Option(False, "--all", help="Mark every entry read."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Mark inbox entries read."""
        from sagaflow import inbox as lib

        if not run_ids and not dismiss_all:
            raise UsageError("Name the run ids to dismiss, or pass --all.")
        if run_ids and dismiss_all:
            raise UsageError("Pass either run ids or --all, not both.")
        for rid in run_ids or []:
            check_run_id(rid)
        changed = lib.dismiss(_state.home().inbox, None if dismiss_all else list(run_ids))
        if as_json:
            emit_json({"dismissed": changed})
            return
        for rid in changed:
            out(rid)
        err(f"dismissed {len(changed)} entr{'y' if len(changed) == 1 else 'ies'}")
