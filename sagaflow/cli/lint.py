"""``sagaflow lint [SKILL ...] [--json]``."""

from __future__ import annotations

import typer

from sagaflow.cli.render import emit_json, err, out


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def register(app: typer.Typer) -> None:
    @app.command()
    def lint(
        skills: list[str] | None = typer.Argument(
            None, metavar="SKILL",
            help="Skill names or skill directory paths (none: every skill found)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Check skills for what would fail their runs: non-deterministic workflow code,
        unknown activity names, prompt variables, SKILL.md $names. Exit 1 on errors."""
        from sagaflow.runs.lint import lint_targets

        reports = lint_targets(skills or [])
        errors = sum(r.errors for r in reports)
        if as_json:
            emit_json({"errors": errors, "warnings": sum(r.warnings for r in reports),
                       "skills": [r.to_dict() for r in reports]})
        else:
            for report in reports:
                for line in report.lines():
                    out(line)
                found = (f"{_count(report.errors, 'error')}, "
                         f"{_count(report.warnings, 'warning')}") if report.findings \
                    else "no findings"
                err(f"{report.skill}: {found}")
        if errors:
            raise typer.Exit(1)
