"""``sagaflow answer RUN "text" | --choice N`` (the work is in :mod:`sagaflow.runs.answer`)."""

from __future__ import annotations

import typer

from sagaflow.cli.params import run_argument
from sagaflow.cli.steer import BY_HELP, JSON_HELP, _run, _say


def register(app: typer.Typer) -> None:
    @app.command()
    def answer(
        run_id: str = run_argument(),
        text: str = typer.Argument("", metavar="ANSWER", help="The answer, as text."),
        choice: int | None = typer.Option(
            None, "--choice", metavar="N", help="Answer with option N of the question (1-based)."
        ),
        by: str = typer.Option("", "--by", help=BY_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Answer the question a SKILL.md run asks (AskUserQuestion); the run resumes."""
        from sagaflow.runs import answer as answering

        answering.check_answer(text, choice)  # a malformed answer fails before connecting
        result = _run(lambda c, loc: answering.answer(c, run_id, text, choice, by, local=loc))
        _say(result, as_json, f"answered {run_id}: {result['answer']}")
