"""``sagaflow replay-check SKILL [--last N] [--json]``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, err, out, paint, status_style


def register(app: typer.Typer) -> None:
    @app.command("replay-check")
    def replay_check(
        skill: str = typer.Argument(..., metavar="SKILL", help="The skill whose runs to check."),
        last: int = typer.Option(5, "--last", min=0, metavar="N",
                                 help="Also check its N most recently closed runs."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Replay a skill's open runs (and last N closed) against the code on disk now.

        One line per run: compatible, or the first divergence (event, what the
        history holds, what the code now issues). Exit 1 when a run is incompatible or
        could not be checked.
        """
        import asyncio

        from sagaflow._engine.client import connect
        from sagaflow.runs.replaycheck import RunCheck
        from sagaflow.runs.replaycheck import replay_check as check

        settings = _state.settings()

        async def run() -> list[RunCheck]:
            client = await connect(settings)
            return await check(client, _state.home(), settings, skill, last=last)

        results = asyncio.run(run())
        if as_json:
            emit_json([r.to_dict() for r in results])
        elif not results:
            err(f"sagaflow: skill {skill} has no open runs and no closed ones; nothing to check.")
        else:
            for r in results:
                level = "OK" if r.compatible else "FAIL" if r.compatible is False else "WARN"
                out(paint(r.line(), status_style(level)))
        if any(r.compatible is not True for r in results):
            raise typer.Exit(1)
