"""``sagaflow skills [SKILL]``."""

from __future__ import annotations

from typing import Any

import typer

from sagaflow.cli.render import emit_json, err, fields, table, word


def _arguments(args: dict[str, Any] | None) -> str:
    if args is None:
        return "-"
    parts = [f"{f} VALUE (required)" for f in args["required"]]
    parts += [f"{f} VALUE" for f in args["optional"]]
    text = ", ".join(parts) or "none"
    if args["any"]:
        text += " (and any other --key VALUE)"
    if args.get("free_text"):
        text += "; free text"
    how = "declared" if args["source"] == "declared" else "learned from build_input"
    return f"{text}  [{how}{', partial' if args['partial'] else ''}]"


def _one(name: str, as_json: bool) -> None:
    from sagaflow.skills.describe import describe_skill
    from sagaflow.skills.discovery import load_skills

    data = describe_skill(load_skills(), name)
    if as_json:
        emit_json(data)
        return
    fields({
        "skill": data["name"], "description": data["description"], "status": data["status"],
        "origin": data["origin"], "path": data["dir"], "workflow": data["workflow"],
        "calls model": word(data["uses_model"]) if data["uses_model"] is not None else None,
        "arguments": _arguments(data["arguments"]),
    })
    if data["error"]:
        err(f"sagaflow: {data['error']}")
    if data["status"] == "error":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command()
    def skills(
        name: str | None = typer.Argument(
            None, metavar="SKILL", help="Show this skill: description, arguments, origin, path."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List discoverable skills with their source and load status, or show one."""
        if name is not None:
            _one(name, as_json)
            return
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
