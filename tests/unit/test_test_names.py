"""Test files are imported by basename (tests/ has no packages): two files of one name
in different folders stop pytest at collection, so the whole suite would not run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_file_name_is_unique() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if ".venv" not in p.parts)
    assert [n for n, count in names.items() if count > 1] == []
