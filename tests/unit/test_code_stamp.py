"""The worker's code stamp: a changed sagaflow module replaces the worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import sagaflow
from sagaflow._engine import daemon


def test_stamp_covers_every_module_and_sees_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for rel in ("__init__.py", "a.py", "sub/b.py", "sub/deep/c.py", "__pycache__/x.py", "d.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    monkeypatch.setattr(sagaflow, "__file__", str(tmp_path / "__init__.py"))
    stamp = daemon._code_stamp()
    names = [part.split(":")[0] for part in stamp.split("|")]
    assert sorted(names) == sorted(["__init__.py", "a.py", os.path.join("sub", "b.py"),
                                    os.path.join("sub", "deep", "c.py")])
    assert daemon._code_stamp() == stamp  # stable
    (tmp_path / "sub" / "deep" / "c.py").write_text("x = 22\n")  # size changes
    assert daemon._code_stamp() != stamp
    touched = daemon._code_stamp()
    os.utime(tmp_path / "a.py", ns=(1, 1))  # same size, other mtime
    assert daemon._code_stamp() != touched
