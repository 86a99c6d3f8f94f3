"""The launch fast path and the Typer command accept and refuse the same argv alike.

Every argv below goes through both entry points: :func:`sagaflow.cli.main.run`
(the fast path, which falls back to Typer when it gives way) and
:func:`sagaflow.cli.app.run` (Typer only), with ``run_launch`` replaced by a
recorder. The parsed :class:`LaunchCall`, the exit code, stdout and the
``sagaflow:`` / ``Error:`` lines of stderr must be identical; the second column
says which parser answers on the fast path, so the comparison is not vacuous.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from typing import get_type_hints

import pytest

from sagaflow.cli import app, launching, main
from sagaflow.cli.options import LAUNCH_OPTIONS, GlobalValues, LaunchCall, parse_launch
from sagaflow.errors import UsageError

H = "hello-world"
FAST, TYPER = "fast", "typer"
CASES: list[tuple[list[str], str]] = [
    (["launch", H], FAST),
    (["launch", H, "--name", "alice"], FAST),
    (["launch", H, "--name=alice", "--flag"], FAST),
    (["-v", "launch", H, "--", "--name", "alice"], FAST),
    (["--verbose", "launch", H, "--name", "alice"], FAST),
    (["-vv", "launch", H], FAST),
    (["--address", "X:1", "launch", H], FAST),
    (["--address=X:1", "--namespace", "ns", "--profile", "p", "launch", H], FAST),
    (["--", "launch", H], FAST),
    (["launch", H, "--", "--name", "alice"], FAST),
    (["launch", H, "--", "--await"], FAST),
    (["launch", "--", H, "x"], FAST),
    (["launch", "--await", H, "--json"], FAST),
    (["launch", H, "--await", "--await"], FAST),
    (["launch", H, "--arg", "a=1", "--arg", "b=2", "-a", "c=3", "-ad=4"], FAST),
    (["launch", H, "-a=k=v"], FAST),
    (["launch", H, "-xa", "k=v"], FAST),
    (["launch", H, "--id", "a", "--id", "b"], FAST),
    (["launch", H, "--id=", "--await"], FAST),
    (["launch", H, "--id", "--await"], FAST),
    (["launch", H, "--id", "--"], FAST),
    (["launch", H, "--id=r-1", "--transport", "scripted", "--pool", "gpu",
      "--budget-usd=2.5", "--timeout", "2h", "--if-exists", "replace", "--json"], FAST),
    (["launch", H, "--name", "--await"], FAST),
    (["launch", "--name", "x", H], FAST),
    (["launch", H, "stray", "-x", "-", "--aw", "--ar", "v"], FAST),
    (["launch", H, "--verbose", "-v", "--version"], FAST),
    (["launch", "boom"], FAST),
    (["-v", "launch", "boom"], FAST),
    (["launch", "boom", "--verbose"], FAST),
    (["launch", H, "--await=1"], TYPER),
    (["launch", H, "--json=yes"], TYPER),
    (["launch", H, "--await="], TYPER),
    (["launch", H, "--id"], TYPER),
    (["launch", H, "--arg"], TYPER),
    (["launch", H, "-a"], TYPER),
    (["--address", "launch", H], TYPER),
    (["--address"], TYPER),
    (["launch"], TYPER),
    (["launch", "--await"], TYPER),
    (["launch", H, "--help"], TYPER),
    (["launch", H, "-xh"], TYPER),
    (["--bogus", "launch", H], TYPER),
    (["-x", "launch", H], TYPER),
    (["--verbose=1", "launch", H], TYPER),
    (["--version", "launch", H], TYPER),
    (["inbox"], TYPER),
]


def _lines(text: str) -> list[str]:
    """What a user reads, without a traceback's frames (they differ by path)."""
    keep = [ln for ln in text.splitlines() if ln.startswith(("sagaflow:", "Error:", "Usage:"))]
    return keep + (["<traceback>"] if "Traceback" in text else [])


def _outcome(
    entry: Callable[[list[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str],
    calls: list[LaunchCall],
) -> tuple[int, list[LaunchCall], str, list[str]]:
    calls.clear()
    code = entry(list(argv))
    captured = capsys.readouterr()
    return code, list(calls), captured.out, _lines(captured.err)


@pytest.mark.parametrize(("argv", "answers"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_both_parsers_agree(
    argv: list[str], answers: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SAGAFLOW_VERBOSE", raising=False)
    calls: list[LaunchCall] = []

    def record(call: LaunchCall) -> int:
        calls.append(call)
        if call.skill == "boom":
            raise UsageError("Unknown skill 'boom'.")
        return 0

    monkeypatch.setattr(launching, "run_launch", record)
    assert (FAST if parse_launch(argv) is not None else TYPER) == answers
    fast = _outcome(main.run, argv, capsys, calls)
    typer_only = _outcome(app.run, argv, capsys, calls)
    assert fast == typer_only
    if argv[-1] == "inbox":
        return
    if answers == FAST:
        assert fast[1] == [parse_launch(argv)]
    else:
        assert fast[0] != 0 or not fast[1], "Typer launched what the fast path gives way on"


def test_fast_path_values() -> None:
    call = parse_launch([
        "-v", "--address", "h:1", "launch", "hello-world", "--name", "alice", "--await",
        "--id=r-1", "-a", "k=v", "--arg", "x=y", "--transport", "scripted", "--json", "--flag",
        "--pool", "gpu", "--budget-usd=2.5", "--timeout", "2h", "--if-exists", "replace",
        "--", "--await",
    ])
    assert call == LaunchCall(
        skill="hello-world", arg=("k=v", "x=y"), extra=("--name", "alice", "--flag", "--await"),
        wait=True, as_json=True, run_id="r-1", transport="scripted", pool="gpu",
        budget_usd="2.5", timeout="2h", if_exists="replace",
        root=GlobalValues(verbose=True, address="h:1"),
    )


def test_table_matches_launch_call() -> None:
    hints = get_type_hints(LaunchCall)
    kinds = {"flag": bool, "value": str | None, "multi": tuple[str, ...]}
    fields = {f.name for f in dataclasses.fields(LaunchCall)}
    assert fields == {o.dest for o in LAUNCH_OPTIONS} | {"skill", "extra", "root"}
    for opt in LAUNCH_OPTIONS:
        assert hints[opt.dest] == kinds[opt.kind], opt.dest


def test_fast_path_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "from sagaflow.cli import launching, main\n"
        "from sagaflow.cli.options import parse_launch\n"
        "assert parse_launch(['-v', 'launch', 'x', '--await', '--name', 'y']) is not None\n"
        "print(','.join(m for m in ('typer', 'click', 'rich', 'temporalio') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", proc.stdout
