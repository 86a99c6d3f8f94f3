"""File tools stay in the workspace (and read the skill's directory): ``../``, absolute
paths elsewhere and symlinks out are refused, and nothing outside is ever written."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_tools_helpers import run


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    ws, skill, outside = tmp_path / "ws", tmp_path / "skill", tmp_path / "outside"
    for d in (ws, skill, outside):
        d.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    (skill / "reference.md").write_text("how to do it\n")
    (ws / "link-file").symlink_to(outside / "secret.txt")
    (ws / "link-dir").symlink_to(outside, target_is_directory=True)
    (ws / "loop").symlink_to(ws / "loop")
    return {"ws": ws, "skill": skill, "outside": outside}


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


ESCAPES = ["../outside/secret.txt", "{outside}/secret.txt", "link-file", "link-dir/secret.txt",
           "sub/../../outside/secret.txt", "loop"]


@pytest.mark.parametrize("path", ESCAPES)
@pytest.mark.parametrize(("tool", "extra"), [
    ("Read", {}),
    ("Write", {"content": "pwned"}),
    ("Edit", {"old_string": "top", "new_string": "pwned"}),
])
def test_file_tools_refuse_escapes(world: dict[str, Path], tool: str, extra: dict[str, str],
                                   path: str) -> None:
    before = snapshot(world["outside"])
    given = path.format(outside=world["outside"])
    out = run(tool, world["ws"], world["skill"], file_path=given, **extra)
    assert out.is_error, out.content
    assert out.content.startswith(f"{tool}: the path {given}")
    assert "outside the workspace" in out.content or "cannot be resolved" in out.content
    assert snapshot(world["outside"]) == before  # nothing written outside
    assert "top secret" not in out.content


@pytest.mark.parametrize("path", ["..", "{outside}", "link-dir"])
@pytest.mark.parametrize("tool", ["Glob", "Grep"])
def test_search_tools_refuse_escaping_roots(world: dict[str, Path], tool: str, path: str) -> None:
    given = path.format(outside=world["outside"])
    out = run(tool, world["ws"], world["skill"], pattern="*" if tool == "Glob" else "secret",
              path=given)
    assert out.is_error and "outside the workspace" in out.content


def test_searches_never_follow_a_symlink_out(world: dict[str, Path]) -> None:
    (world["ws"] / "mine.txt").write_text("secret of mine\n")
    found = run("Glob", world["ws"], pattern="**/*.txt").content
    assert found == str(world["ws"] / "mine.txt")
    grepped = run("Grep", world["ws"], pattern="secret", output_mode="content").content
    assert "top secret" not in grepped and "secret of mine" in grepped


def test_skill_dir_is_readable_but_not_writable(world: dict[str, Path]) -> None:
    ref = world["skill"] / "reference.md"
    assert run("Read", world["ws"], world["skill"], file_path=str(ref)).content == \
        "     1\thow to do it"
    assert run("Glob", world["ws"], world["skill"], pattern="*.md",
               path=str(world["skill"])).content == str(ref)
    for tool, extra in (("Write", {"content": "x"}),
                        ("Edit", {"old_string": "how", "new_string": "x"})):
        out = run(tool, world["ws"], world["skill"], file_path=str(ref), **extra)
        assert out.is_error and "outside the workspace" in out.content
    assert ref.read_text() == "how to do it\n"


def test_write_replaces_a_symlink_planted_after_the_check(world: dict[str, Path]) -> None:
    """The file is written at the resolved path through a rename: a link is replaced."""
    from agent_tools_helpers import call

    from sagaflow.agent.tools.paths import resolve, write_atomically

    checked = resolve(call("Write", world["ws"]), "report.md", write=True)
    checked.symlink_to(world["outside"] / "secret.txt")  # planted between check and write
    write_atomically(checked, "ok")
    assert not checked.is_symlink() and checked.read_text() == "ok"
    assert (world["outside"] / "secret.txt").read_text() == "top secret\n"


def test_empty_and_nul_paths(world: dict[str, Path]) -> None:
    assert "empty or holds a NUL" in run("Read", world["ws"], file_path="").content
    assert "empty or holds a NUL" in run("Write", world["ws"], file_path="a\0b",
                                         content="").content


@pytest.mark.parametrize("list_", ["deny", "ask"])
def test_search_tools_hide_files_a_read_rule_guards(world: dict[str, Path], list_: str) -> None:
    from sagaflow.agent.permissions import PermissionRules

    ws = world["ws"]
    (ws / "secrets").mkdir()
    (ws / "secrets" / "key.txt").write_text("token = hunter2\n")
    (ws / "app.txt").write_text("token = public\n")
    guard = ("Read(./secrets/**)",)
    rules = PermissionRules(deny=guard) if list_ == "deny" else PermissionRules(ask=guard)
    glob = run("Glob", ws, rules=rules, pattern="**/*.txt").content
    assert glob == str(ws / "app.txt")
    for mode in ("content", "files_with_matches", "count"):
        grep = run("Grep", ws, rules=rules, pattern="token", output_mode=mode).content
        assert "hunter2" not in grep and "key.txt" not in grep and "app.txt" in grep
    read = run("Read", ws, rules=rules, file_path="secrets/key.txt")
    assert (read.is_error if list_ == "deny" else read.needs_approval == "Read: secrets/key.txt")
