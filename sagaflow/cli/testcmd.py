"""``sagaflow test SKILL [--case NAME] [--json] [-v]``: a skill's offline tests."""

from __future__ import annotations

import typer

from sagaflow.cli.render import emit_json, out, paint, status_style


def register(app: typer.Typer) -> None:
    @app.command("test")
    def test(
        skill: str = typer.Argument(..., metavar="SKILL",
                                    help="A skill's name, or the path of its directory."),
        case: str = typer.Option(None, "--case", metavar="NAME",
                                 help="Run only this case (its file name without .yaml)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        verbose: bool = typer.Option(False, "--verbose", "-v",
                                     help="Show each run (id, status, result, steps, model calls) and "
                                          "the Temporal SDK's log of failed steps."),
    ) -> None:
        """Run a skill's tests (SKILL/tests/*.yaml) offline: no server, worker or model key.

        Each case launches the skill in an in-process Temporal (time skipped) with its
        scripted replies, gives its answers, and checks its expectations. One line per
        case, then a summary; exit 1 when a case fails, 2 when the skill has no tests.
        """
        import json

        from sagaflow.authoring.suite import run_tests
        from sagaflow.cli import _state

        # the SDK's own log (a failed step's traceback) only with -v: the case line says why
        report = run_tests(skill, case=case, sdk_logs=verbose or _state.verbose())
        if as_json:
            emit_json(report.to_dict())
        else:
            for result in report.results:
                word = "OK" if result.passed else "FAIL"
                out(paint(result.line(full=verbose), status_style(word)))
                if verbose and result.observed is not None:
                    seen = result.observed
                    out(f"      run {seen.run_id}: {seen.status}, {seen.model_calls} model calls, "
                        f"{seen.seconds:.2f} s")
                    shown = json.dumps(seen.result, ensure_ascii=False)
                    out(f"      result {shown}" + (f"  error {seen.error}" if seen.error else ""))
                    out(f"      steps {', '.join(seen.steps) or 'none'}")
            out(report.summary())
        if report.failed:
            raise typer.Exit(1)
