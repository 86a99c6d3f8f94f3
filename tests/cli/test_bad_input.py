"""Bad input gets one clear line, a non-zero exit, no traceback, nothing half-done."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox import Sandbox, free_port, one_line_failure


def _no_runs(sf: Sandbox) -> None:
    runs = sf.home / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []


def test_unknown_skill_lists_near_names(sf: Sandbox) -> None:
    one_line_failure(sf.run("launch", "helo-world"), 2, "Unknown skill", "hello-world")
    _no_runs(sf)


def test_unknown_argument_is_named(sf: Sandbox) -> None:
    proc = sf.run("launch", "hello-world", "--nmae", "x")
    one_line_failure(proc, 2, "--nmae", "--name")
    _no_runs(sf)


def test_missing_argument_is_named(sf: Sandbox) -> None:
    sf.install_skill("two-step")
    one_line_failure(sf.run("launch", "two-step"), 2, "--topic")
    _no_runs(sf)


def test_malformed_arg(sf: Sandbox) -> None:
    one_line_failure(sf.run("launch", "hello-world", "--arg", "name"), 2, "key=value")
    one_line_failure(sf.run("launch", "hello-world", "stray"), 2, "stray")


def test_syntax_error_and_failing_register(sf: Sandbox) -> None:
    sf.install_skill("broken-syntax")
    sf.install_skill("broken-register")
    one_line_failure(sf.run("launch", "broken-syntax"), 1, "syntax error", "__init__.py:1")
    one_line_failure(sf.run("launch", "broken-register"), 1, "database not configured")
    _no_runs(sf)


def test_undefined_prompt_variable(sf: Sandbox) -> None:
    skill = sf.install_skill("two-step")
    (skill / "prompts" / "first.md").write_text("First step about $topic for $audience\n")
    one_line_failure(sf.run("launch", "two-step", "--topic", "x"), 1, "$audience")
    _no_runs(sf)


def test_no_model_transport(sf: Sandbox) -> None:
    proc = sf.run(
        "launch", "hello-world", "--name", "x", ANTHROPIC_API_KEY="", PATH="/usr/bin:/bin"
    )
    one_line_failure(proc, 1, "ANTHROPIC_API_KEY", "--transport scripted")
    _no_runs(sf)


def test_unreachable_temporal(sf: Sandbox) -> None:
    address = f"127.0.0.1:{free_port()}"
    proc = sf.run(
        "launch", "hello-world", "--name", "x",
        TEMPORAL_ADDRESS=address, SAGAFLOW_EMBEDDED="0", SAGAFLOW_NO_HOOK="1",
    )
    one_line_failure(proc, 1, address, "does not answer")
    listing = sf.run("list", TEMPORAL_ADDRESS=address, SAGAFLOW_EMBEDDED="0")
    one_line_failure(listing, 1, "does not answer")


def test_unwritable_home(sf: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    proc = sf.run("launch", "hello-world", "--name", "x", SAGAFLOW_HOME=str(blocker / "home"))
    one_line_failure(proc, 1, "SAGAFLOW_HOME")


def test_corrupt_settings_json(sf: Sandbox) -> None:
    settings = Path(sf.env["HOME"]) / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{not json")
    one_line_failure(sf.run("hook", "install"), 1, "settings.json")
    assert settings.read_text() == "{not json"


def test_garbled_inbox_line(sf: Sandbox) -> None:
    from sagaflow import inbox

    path = sf.home / "INBOX.md"
    sf.home.mkdir(parents=True)
    inbox.append(path, inbox.Entry("r-1", "DONE", "hello-world", "fine", ""))
    with open(path, "a") as fh:
        fh.write("random garbage someone typed\n")
    inbox.append(path, inbox.Entry("r-2", "DONE", "hello-world", "also fine", ""))
    proc = sf.run("inbox")
    assert proc.returncode == 1
    assert "r-1" in proc.stdout and "r-2" in proc.stdout
    assert "is not a sagaflow entry" in proc.stderr and "Traceback" not in proc.stderr


def test_verbose_shows_traceback(sf: Sandbox) -> None:
    proc = sf.run("--verbose", "launch", "helo-world")
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_unknown_cli_flags_and_ids(sf: Sandbox) -> None:
    one_line_failure(sf.run("launch", "hello-world", "--id", "../escape"), 2, "not usable")
    proc = sf.run("list", "--bogus")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    one_line_failure(sf.run("list", "--status", "sleeping"), 2, "Unknown --status")
    one_line_failure(sf.run("dismiss", "nope-1"), 1, "No inbox entry")
    one_line_failure(sf.run("dismiss"), 2, "--all")


HEAVY = ("temporalio", "anthropic", "rich", "typer")


@pytest.mark.parametrize("argv", [["--help"], ["inbox"], ["path"], ["launch", "--help"]])
def test_light_commands_import_neither_temporalio_nor_anthropic_nor_rich(
    sf: Sandbox, argv: list[str]
) -> None:
    code = (
        "import sys\n"
        "from sagaflow.cli.app import run\n"
        f"run({argv!r})\n"
        f"print('\\nHEAVY=' + ','.join(m for m in {HEAVY[:3]!r} if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=sf.env, capture_output=True, text=True, check=True
    )
    assert proc.stdout.rstrip().endswith("HEAVY="), proc.stdout[-300:]


def test_piped_launch_takes_the_fast_path_without_typer_or_rich(sf: Sandbox) -> None:
    code = (
        "import os, sys\n"
        "from sagaflow.cli.main import run\n"
        "code = run(['-v', 'launch', 'hello-world', '--name', 'x', '--await'])\n"
        f"print('\\nHEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), flush=True)\n"
        "os._exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=sf.env, cwd=sf.root, capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hello, x" in proc.stdout
    assert proc.stdout.rstrip().endswith("HEAVY=temporalio"), proc.stdout[-300:]


def test_path_command(sf: Sandbox) -> None:
    assert sf.run("path", check=True).stdout.strip() == str(sf.home)
    assert sf.run("path", "inbox", check=True).stdout.strip() == str(sf.home / "INBOX.md")
    paths = json.loads(sf.run("path", "--json", check=True).stdout)
    assert paths["runs"] == str(sf.home / "runs")
    alias = sf.run("path", "home", SAGAFLOW_HOME="", SAGAFLOW_ROOT="/tmp/alias-home")
    assert alias.stdout.strip() == "/tmp/alias-home"
