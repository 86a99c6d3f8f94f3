"""Each agent tool run through ``execute`` (schema check, permissions, the tool), no Temporal."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from agent_tools_helpers import run

from sagaflow.agent.permissions import PermissionRules
from sagaflow.agent.tools import TOOL_SCHEMAS
from sagaflow.agent.tools import read as read_tool


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def test_schemas_have_claude_code_names_and_fields() -> None:
    assert sorted(TOOL_SCHEMAS) == ["Bash", "Edit", "Glob", "Grep", "Read", "WebFetch", "Write"]
    fields = {name: set(d["input_schema"]["properties"]) for name, d in TOOL_SCHEMAS.items()}
    assert fields["Read"] == {"file_path", "offset", "limit"}
    assert fields["Write"] == {"file_path", "content"}
    assert fields["Edit"] == {"file_path", "old_string", "new_string", "replace_all"}
    assert fields["Glob"] == {"pattern", "path"}
    assert {"pattern", "path", "glob", "output_mode", "-i", "-n", "-A", "-B", "-C",
            "head_limit"} <= fields["Grep"]
    assert {"command", "timeout", "description"} <= fields["Bash"]
    assert fields["WebFetch"] == {"url", "prompt"}
    for name, definition in TOOL_SCHEMAS.items():
        assert definition["name"] == name and definition["description"]


@pytest.mark.parametrize(("tool", "input_", "message"), [
    ("Read", {}, "'file_path' is a required property"),
    ("Read", {"file_path": "a", "offset": -1}, "['offset'] is invalid: -1 is less than"),
    ("Read", {"file_path": 3}, "3 is not of type 'string'"),
    ("Bash", {"command": "ls", "timeout": 700000}, "700000 is greater than the maximum"),
    ("Grep", {"pattern": "x", "output_mode": "lines"}, "'lines' is not one of"),
    ("Write", {"file_path": "a", "content": "x", "mode": "w"}, "Additional properties"),
])
def test_input_failing_its_schema_is_a_tool_error(ws: Path, tool: str, input_: dict[str, object],
                                                  message: str) -> None:
    out = run(tool, ws, **input_)
    assert out.is_error and out.content.startswith(f"{tool}: the input")
    assert message in out.content


# -- Read ------------------------------------------------------------------------------------


def test_read_numbers_lines_like_cat_n(ws: Path) -> None:
    (ws / "a.txt").write_text("one\ntwo\nthree\n")
    out = run("Read", ws, file_path=str(ws / "a.txt"))
    assert not out.is_error
    assert out.content == "     1\tone\n     2\ttwo\n     3\tthree"


def test_read_offset_limit_and_what_remains(ws: Path) -> None:
    (ws / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = run("Read", ws, file_path="a.txt", offset=4, limit=2)
    assert out.content == "     4\tline 4\n     5\tline 5\n\n(5 more lines; read on with offset=6.)"
    past = run("Read", ws, file_path="a.txt", offset=50)
    assert "has 10 lines; offset 50 is past its end" in past.content


def test_read_caps_lines_and_size(ws: Path) -> None:
    (ws / "long.txt").write_text("x" * 5000 + "\n")
    assert run("Read", ws, file_path="long.txt").content.endswith("x ... [line cut]")
    (ws / "big.txt").write_text("y\n" * (read_tool.MAX_WHOLE_BYTES // 2 + 10))
    out = run("Read", ws, file_path="big.txt")
    assert out.is_error and "read part of it with offset and limit" in out.content
    assert not run("Read", ws, file_path="big.txt", limit=3).is_error


def test_read_refuses_binary_dirs_and_missing(ws: Path) -> None:
    (ws / "b.bin").write_bytes(b"\x00\x01\x02")
    (ws / "d").mkdir()
    (ws / "empty").write_text("")
    assert "binary file" in run("Read", ws, file_path="b.bin").content
    assert "is a directory" in run("Read", ws, file_path="d").content
    missing = run("Read", ws, file_path="nope.txt")
    assert missing.is_error and "No such file or directory" in missing.content
    assert "exists but is empty" in run("Read", ws, file_path="empty").content


# -- Write and Edit ----------------------------------------------------------------------------


def test_write_creates_parents_and_keeps_mode(ws: Path) -> None:
    out = run("Write", ws, file_path=str(ws / "out" / "r.md"), content="# hi\n")
    assert not out.is_error and out.content.startswith("Created ")
    assert (ws / "out" / "r.md").read_text() == "# hi\n"
    script = ws / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    assert run("Write", ws, file_path="run.sh", content="new").content.startswith("Replaced ")
    assert script.read_text() == "new" and stat.S_IMODE(script.stat().st_mode) == 0o755
    assert not [p for p in ws.rglob(".*.tmp")]  # no temporary file left


def test_edit_unique_replace(ws: Path) -> None:
    f = ws / "m.py"
    f.write_text("a = 1\nb = 2\n")
    assert not run("Edit", ws, file_path="m.py", old_string="b = 2", new_string="b = 3").is_error
    assert f.read_text() == "a = 1\nb = 3\n"


@pytest.mark.parametrize(("old", "new", "extra", "message"), [
    ("zzz", "y", {}, "old_string was not found"),
    ("x", "y", {}, "old_string occurs 3 times"),
    ("x", "x", {}, "are the same"),
    ("", "y", {}, "already exists"),
])
def test_edit_errors(ws: Path, old: str, new: str, extra: dict[str, object], message: str) -> None:
    (ws / "f").write_text("x x x")
    out = run("Edit", ws, file_path="f", old_string=old, new_string=new, **extra)
    assert out.is_error and message in out.content
    assert (ws / "f").read_text() == "x x x"


def test_edit_replace_all_keeps_crlf_and_creates_with_empty_old(ws: Path) -> None:
    f = ws / "f"
    f.write_bytes(b"x\r\nx\r\n")
    out = run("Edit", ws, file_path="f", old_string="x", new_string="y", replace_all=True)
    assert out.content.endswith("2 replacement(s).")
    assert f.read_bytes() == b"y\r\ny\r\n"
    assert not run("Edit", ws, file_path="new.txt", old_string="", new_string="hello").is_error
    assert (ws / "new.txt").read_text() == "hello"


# -- Glob --------------------------------------------------------------------------------------


def test_glob_newest_first_and_truncated(ws: Path) -> None:
    (ws / "src" / "pkg").mkdir(parents=True)
    now = time.time()
    for age, name in enumerate(["src/a.py", "src/pkg/b.py", "c.py", "notes.md"]):
        (ws / name).write_text("")
        os.utime(ws / name, (now - age * 10, now - age * 10))
    out = run("Glob", ws, pattern="**/*.py")
    assert out.content.splitlines() == [str(ws / "src/a.py"), str(ws / "src/pkg/b.py"),
                                        str(ws / "c.py")]
    assert run("Glob", ws, pattern="*.py", path=str(ws / "src")).content == str(ws / "src/a.py")
    assert run("Glob", ws, pattern="*.rs").content == "No files found"
    for i in range(105):
        (ws / f"f{i}.txt").write_text("")
    many = run("Glob", ws, pattern="*.txt").content.splitlines()
    assert len(many) == 101 and "105 files matched" in many[-1]


# -- Bash --------------------------------------------------------------------------------------


def test_bash_output_cwd_and_exit_code(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    out = run("Bash", ws, command='pwd; echo "key=${ANTHROPIC_API_KEY:-none}"; echo err >&2')
    assert not out.is_error
    assert out.content == f"{ws}\nkey=none\nerr"
    failed = run("Bash", ws, command="echo nope; exit 3")
    assert failed.is_error and failed.content == "nope\n[exit code 3]"
    assert run("Bash", ws, command="true").content == "(no output)"


def test_bash_timeout_kills_the_whole_group(ws: Path) -> None:
    import psutil

    started = time.monotonic()
    out = run("Bash", ws, command="sleep 30 & echo $! > child.pid; echo started; sleep 30",
              timeout=700)
    assert time.monotonic() - started < 10
    assert out.is_error and out.content.startswith("started\n")
    assert "timed out after 0.7 s and was stopped" in out.content
    child = int((ws / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the background child survived the timeout"
        time.sleep(0.05)


def test_bash_background_leftovers_are_stopped(ws: Path) -> None:
    out = run("Bash", ws, command="sleep 30 & echo done")
    assert not out.is_error
    assert out.content.startswith("done") and "left running in the background" in out.content


def test_bash_output_is_capped(ws: Path) -> None:
    out = run("Bash", ws, command="seq 1 200000")
    assert not out.is_error and len(out.content) < 31_000
    assert out.content.startswith("1\n2\n") and out.content.endswith("200000")
    assert "cut]" in out.content


def test_bash_refuses_background_mode(ws: Path) -> None:
    out = run("Bash", ws, command="sleep 1", run_in_background=True)
    assert out.is_error and "not supported" in out.content


# -- permissions through execute --------------------------------------------------------------


def test_denied_bash_never_runs(ws: Path) -> None:
    rules = PermissionRules(allow=("Bash",), deny=("Bash(touch:*)",))
    out = run("Bash", ws, rules=rules, approved=True, command="echo hi && touch made")
    assert out.is_error and "refused by the permission rule deny 'Bash(touch:*)'" in out.content
    assert not (ws / "made").exists()


def test_ask_returns_needs_approval_without_running(ws: Path) -> None:
    out = run("Bash", ws, rules=PermissionRules(), command="touch made")
    assert out.needs_approval == "Bash: touch made" and not out.is_error
    assert not (ws / "made").exists()
    approved = run("Bash", ws, rules=PermissionRules(), approved=True, command="touch made")
    assert approved.needs_approval is None and (ws / "made").exists()


def test_write_asks_by_default(ws: Path) -> None:
    out = run("Write", ws, rules=PermissionRules(), file_path="a", content="x")
    assert out.needs_approval == "Write: a" and not (ws / "a").exists()


@pytest.mark.parametrize(("name", "message"), [
    ("mcp__github__create_issue", "MCP tools are not supported by sagaflow (server 'github')"),
    ("Teleport", "Teleport is not a tool here; the tools are Bash, Edit"),
    ("TodoWrite", "handled by the agent loop"),
])
def test_unknown_tools(ws: Path, name: str, message: str) -> None:
    out = run(name, ws)
    assert out.is_error and message in out.content


def test_allowed_tools_problems_are_listed_together() -> None:
    from sagaflow.agent.tools.registry import allowed_tools_problems

    assert allowed_tools_problems(["Read", "Bash(git:*)", "TodoWrite", "Task"]) == []
    problems = allowed_tools_problems(
        ["Read", "Bash(npm", "mcp__github__create_issue", "WebSearch", "Teleport"])
    assert len(problems) == 4
    assert "malformed" in problems[0]
    assert problems[1] == ("mcp__github__create_issue: MCP tools are not supported by sagaflow "
                           "(server 'github').")
    assert problems[2].startswith("allowed-tools names WebSearch, a Claude Code tool sagaflow")
    assert problems[3].startswith("allowed-tools names 'Teleport', which is not a tool")


def test_every_result_is_capped_for_history(ws: Path) -> None:
    from sagaflow.agent.tools.base import MAX_RESULT_CHARS

    (ws / "wide.txt").write_text(("é" * 1900 + "\n") * 2000)  # 2000 lines under the line cap
    out = run("Read", ws, file_path="wide.txt", limit=2000)
    assert not out.is_error and len(out.content) <= MAX_RESULT_CHARS + 100
    assert len(out.content.encode("utf-8")) < 256 * 1024  # Temporal's payload warning
    assert "characters cut]" in out.content
