"""``sagaflow skills``."""

from __future__ import annotations

import typer

from sagaflow.cli.render import emit_json, err, table


def register(app: typer.Typer) -> None:
    @app.command()
    def skills(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List discoverable skills with their source and load status."""
        from sagaflow.skills.discovery import load_skills

        loaded = load_skills()
        rows = [
            {
                "name": i.name, "origin": i.origin, "status": i.status,
                "workflow": i.workflow, "dir": str(i.dir), "error": i.error,
            }
            for i in loaded.infos
        ]
        if as_json:
            emit_json(rows)
            return
        if not rows:
            err("no skills found")
            return
        table(rows, ["name", "origin", "status", "dir"])
        for row in rows:
            if row["error"]:
                err(f"sagaflow: {row['error']}")
