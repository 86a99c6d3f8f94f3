"""The launch fast path parses exactly what the Typer command accepts."""

from __future__ import annotations

from sagaflow.cli.launching import parse_fast


def test_fast_path_parses_launch_options_and_skill_args() -> None:
    parsed = parse_fast([
        "launch", "hello-world", "--name", "alice", "--await", "--id=r-1",
        "-a", "k=v", "--arg", "x=y", "--transport", "scripted", "--json", "--flag",
        "--pool", "gpu", "--budget-usd=2.5", "--timeout", "2h", "--if-exists", "replace",
    ])
    assert parsed == {
        "skill": "hello-world", "arg": ["k=v", "x=y"], "extra": ["--name", "alice", "--flag"],
        "wait": True, "as_json": True, "run_id": "r-1", "transport": "scripted",
        "pool": "gpu", "budget_usd": "2.5", "timeout": "2h", "if_exists": "replace",
    }


def test_fast_path_defers_to_typer_when_it_cannot_answer() -> None:
    assert parse_fast(["launch", "--help"]) is None
    assert parse_fast(["launch", "hello-world", "-h"]) is None
    assert parse_fast(["launch"]) is None
    assert parse_fast(["launch", "hello-world", "--id"]) is None
    assert parse_fast(["--address", "x:1", "launch", "hello-world"]) is None
    assert parse_fast(["inbox"]) is None
