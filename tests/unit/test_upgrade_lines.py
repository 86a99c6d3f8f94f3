"""``upgrade``'s one line per run, and a damaged build snapshot written again."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.errors import BuildError
from sagaflow.paths import Home
from sagaflow.runs.upgrade import ALREADY, FORCED, MOVED, REFUSED, Upgrade
from sagaflow.skills import builds
from sagaflow.skills.discovery import SkillSource


@pytest.mark.parametrize(("action", "reason", "line"), [
    (MOVED, "", "r1: moved from build aaa to build bbb"),
    (FORCED, "", "r1: moved without a replay check (--force) from build aaa to build bbb"),
    (ALREADY, "", "r1: already on build bbb"),
    (REFUSED, "it is completed; closed runs cannot move",
     "r1: refused: it is completed; closed runs cannot move"),
])
def test_one_line_per_run(action: str, reason: str, line: str) -> None:
    verdict = Upgrade("r1", "gated", action, "aaa", "bbb", reason)
    assert verdict.line() == line
    assert verdict.to_dict()["action"] == action


def test_an_unversioned_run_says_none() -> None:
    assert Upgrade("r1", "gated", MOVED, None, "bbb").line() == \
        "r1: moved from build none to build bbb"


def test_a_snapshot_missing_a_skill_directory_is_written_again(tmp_path: Path) -> None:
    skill = tmp_path / "src" / "demo"
    skill.mkdir(parents=True)
    (skill / "__init__.py").write_text("X = 1\n")
    home = Home(tmp_path / "home")
    sources = [SkillSource(skill, "user", "python")]
    first = builds.make(home, sources)
    damaged = first.skill_dir("demo")
    for path in damaged.iterdir():
        path.unlink()
    damaged.rmdir()
    with pytest.raises(BuildError, match="lacks skill demo"):
        builds.open_build(home, first.id)
    again = builds.make(home, sources)
    assert again.id == first.id
    assert (damaged / "__init__.py").read_text() == "X = 1\n"
    assert builds.open_build(home, first.id).skills == first.skills
