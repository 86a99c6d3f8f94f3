"""``sagaflow upgrade RUN... | --skill SKILL [--force] [--json]``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.params import check_run_ref
from sagaflow.cli.render import emit_json, err, out, paint, status_style

FORCE_WARNING = (
    "warning: --force moves runs without replaying their histories on the new code; a run "
    "the change breaks blocks (it does not fail) until compatible code serves it: revert the "
    "skill and run 'sagaflow upgrade RUN' again."
)


def _check_runs(values: list[str] | None) -> list[str] | None:
    return None if values is None else [check_run_ref(v) for v in values]


def register(app: typer.Typer) -> None:
    @app.command("upgrade")
    def upgrade(
        run_ids: list[str] | None = typer.Argument(
            None, metavar="RUN...", help="The open runs to move.", callback=_check_runs,
            show_default=False),
        skill: str | None = typer.Option(None, "--skill", metavar="SKILL",
                                         help="Move every open run of this skill."),
        force: bool = typer.Option(False, "--force",
                                   help="Move without the replay check (a broken run blocks)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Move open runs to this directory's current build when their histories replay on it.

        The build is snapshotted and its worker started, as launch does; each run's
        history is replayed on the build's snapshot first. One line per run: moved,
        refused (the first divergence, or why it cannot move) or already on it.
        Exit 1 when a run was refused.
        """
        import asyncio

        from sagaflow._engine.client import ensure_temporal
        from sagaflow.runs.upgrade import REFUSED, Upgrade
        from sagaflow.runs.upgrade import upgrade as move

        settings = _state.settings()
        if force:
            err(FORCE_WARNING)

        async def run() -> list[Upgrade]:
            client = await ensure_temporal(settings)
            return await move(client, _state.home(), settings, run_ids or [], skill=skill,
                              force=force, notice=err)

        results = asyncio.run(run())
        if as_json:
            emit_json([r.to_dict() for r in results])
        elif not results:
            err(f"sagaflow: skill {skill} has no open runs; nothing to upgrade.")
        else:
            for r in results:
                level = "FAIL" if r.action == REFUSED else "WARN" if r.action == "forced" else "OK"
                out(paint(r.line(), status_style(level)))
        if any(r.action == REFUSED for r in results):
            raise typer.Exit(1)
