"""A build's worker writes its skills' bytecode only when the interpreter won't."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sagaflow.skills.bytecode import compile_build


def _build(tmp_path: Path) -> Path:
    skill = tmp_path / "skills" / "hello-world"
    skill.mkdir(parents=True)
    (skill / "__init__.py").write_text("X = 1\n")
    (skill / "workflow.py").write_text("Y = 2\n")
    (skill / "broken.py").write_text("def (:\n")  # a skill that fails to load: left alone
    return tmp_path


def test_bytecode_written_when_python_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _build(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert compile_build(root)
    cached = sorted(p.name.split(".")[0] for p in (root / "skills/hello-world/__pycache__").iterdir())
    assert cached == ["__init__", "workflow"]
    modes = {p.stat().st_mode & 0o777 for p in (root / "skills/hello-world/__pycache__").iterdir()}
    assert modes == {0o400}  # read-only, like every file of a build's snapshot
    assert compile_build(root)  # again (a restarted worker): up to date, nothing breaks


def test_nothing_written_when_python_writes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _build(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert not compile_build(root)
    assert not (root / "skills/hello-world/__pycache__").exists()


def test_missing_build_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert compile_build(tmp_path / "gone")
