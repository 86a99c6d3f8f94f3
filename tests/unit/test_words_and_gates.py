"""Words, not Python values or types: help placeholders, human renderers, gate notices."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sagaflow.cli.render import skill_args, word
from sagaflow.runs.follow import Event
from sagaflow.runs.gates import GateNotices, gate_commands


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_every_help_names_values_with_words() -> None:
    from sagaflow.cli.app import command

    for path, cmd in _commands(command()):
        ctx = cmd.make_context(" ".join(["sagaflow", *path]), ["--help"], resilient_parsing=True)
        text = cmd.get_help(ctx)
        assert not re.search(r"<[a-z\[\], ]+>|\bTEXT\b", text), (path, text)
        for param in cmd.params:
            if param.param_type_name == "argument" or not getattr(param, "is_flag", False):
                assert param.metavar and param.metavar == param.metavar.upper(), (path, param.name)


@pytest.mark.parametrize(("value", "shown"), [
    (True, "yes"), (False, "no"), (None, "-"), ({}, "-"), ([], "-"), ("", "-"),
    ({"grpc": 7233, "ui": None}, "grpc 7233, ui -"), (["a", "b"], "a, b"), (0, "0"), ("x", "x"),
])
def test_word(value: object, shown: str) -> None:
    assert word(value) == shown


def test_skill_args_read_as_typed() -> None:
    assert skill_args({"name": "bob", "max_items": "two words"}) == "--name bob --max-items 'two words'"
    assert skill_args({}) == "-"


def test_gate_notice_once_per_gate() -> None:
    said: list[str] = []
    notices = GateNotices(said.append)

    def state(waiting: str) -> Event:
        return {"event": "state", "run_id": "r-1", "waiting_on": waiting, "state": "waiting"}

    for waiting in ("", "approval:publish", "approval:publish", "pause", "approval:publish",
                    "approval:ship", "", "budget", "budget"):
        notices(state(waiting))
    assert [s.split(";")[0] for s in said] == [
        "run r-1 waits for approval of publish", "run r-1 waits for approval of ship",
        "run r-1 is parked on its budget",
    ]
    assert "sagaflow approve r-1 --step publish" in said[0]
    assert "sagaflow reject r-1 --step publish --reason" in said[0]
    assert gate_commands("r-1", "pause") is None and gate_commands("r-1", "") is None
    # a signal wait names the command that sends it (it named none: the run just sat there)
    assert "send it: sagaflow signal r-1 go '{...}'" in (gate_commands("r-1", "signal:go") or "")
    assert "--step 'two words'" in (gate_commands("r-1", "approval:two words") or "")
