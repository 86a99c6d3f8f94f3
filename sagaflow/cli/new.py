"""``sagaflow new NAME [--kind python|skillmd] [--dir DIR] [--json]``: scaffold a skill."""

from __future__ import annotations

from pathlib import Path

import typer

from sagaflow.cli.render import emit_json, out


def register(app: typer.Typer) -> None:
    @app.command("new")
    def new(
        name: str = typer.Argument(..., metavar="NAME",
                                   help="The skill's name: lowercase letters, digits, hyphens."),
        kind: str = typer.Option("python", "--kind", metavar="KIND",
                                 help="python (a workflow skill) or skillmd (a SKILL.md skill)."),
        directory: Path = typer.Option(None, "--dir", metavar="DIR",
                                       help="Create it in DIR/NAME (default: ~/.claude/skills)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Create a skill whose offline test passes as generated (prompts, scripted
        replies, tests/*.yaml), and print the next two commands to run."""
        from sagaflow.authoring.scaffold import create

        created = create(name, kind=kind, parent=directory)
        if as_json:
            emit_json(created.to_dict())
            return
        out(f"created {created.kind} skill {created.name} in {created.path}")
        if created.note:
            out(f"note: {created.note}")
        out("next:")
        for command in created.next:
            out(f"  {command}")
