"""Every ``sagaflow ...`` command quoted in sagaflow's own strings parses with the real CLI.

Messages, help texts and inbox entries tell users what to type next; a command or
option that does not exist is a dead end. This walks every string literal (not
docstrings) in the package, f-strings included (their ``{...}`` parts become a
placeholder), and parses each quoted command through the CLI's Click tree.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from suggested import bare_options, problem, quoted_commands

PACKAGE = Path(__file__).resolve().parents[2] / "sagaflow"


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) else "{X}" for v in node.values
            )
            found.append((node.lineno, str(text)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings | parts):
            found.append((node.lineno, node.value))
    return found


def _suggestions() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, text in _strings(tree):
            for command in quoted_commands(text):
                out.append((f"{path.relative_to(PACKAGE.parent)}:{line}", command))
    return out


SUGGESTIONS = _suggestions()


def test_the_scan_finds_the_known_suggestions() -> None:
    commands = {c for _, c in SUGGESTIONS}
    assert len(SUGGESTIONS) > 25
    assert "worker run --pool {X}" in commands
    assert any(c.startswith("approve {X} --extend-budget") for c in commands)


@pytest.mark.parametrize(("where", "command"), SUGGESTIONS, ids=[w for w, _ in SUGGESTIONS])
def test_suggested_command_parses(where: str, command: str) -> None:
    assert problem(command) is None, f"{where}: 'sagaflow {command}': {problem(command)}"


def test_the_checker_catches_wrong_commands() -> None:
    assert problem("approve X --nope") is not None
    assert problem("schedule add n s --cron") is None  # help text naming an option
    assert problem("approve X Y") is not None  # one RUN only
    assert problem("schedule add n") is not None  # SKILL missing
    assert problem("no-such-command X") is not None
    assert problem("approve X --step s") is None
    assert bare_options("pass --transport scripted to 'sagaflow launch X --await'") == ["--transport"]
