"""``sagaflow doctor``."""

from __future__ import annotations

import typer

from sagaflow.cli import _state
from sagaflow.cli.render import emit_json, out, paint, status_style


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Check Temporal, worker, model transport, skills, hook and home (no billable call)."""
        from sagaflow.errors import SagaflowError
        from sagaflow.runs.doctor import run_checks

        try:  # the root options (--address, --namespace, --profile) apply to doctor too
            settings = _state.settings()
        except SagaflowError:
            settings = None  # run_checks reports the unreadable config as a FAIL check
        checks = run_checks(_state.home(), settings)
        if as_json:
            emit_json([c.to_dict() for c in checks])
        else:
            for check in checks:
                fix = f"  → {check.fix}" if check.fix and check.level != "OK" else ""
                level = paint(f"{check.level:<4}", status_style(check.level))
                out(level, f"  {check.name:<12} {check.detail}{fix}")
        if any(c.level == "FAIL" for c in checks):
            raise typer.Exit(1)
