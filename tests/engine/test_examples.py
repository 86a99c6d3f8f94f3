"""The bundled example skills (skills/critique, refine, book-trip): every offline case in
their tests/*.yaml passes through sagaflow.testing, and bad arguments are refused in
the skill's own words before anything runs.

Each case is an example of issue 12's authoring guide: critique (parallel critics, a
failing critic, a pydantic judge), refine (loop_until reaching its target, or returning
the last draft at max_iterations), book-trip (a saga approved, rejected with its
compensations, and timed out after 24 hours that the test server skips).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.errors import SagaflowError
from sagaflow.testing import SkillRunner

SKILLS = Path(__file__).resolve().parents[2] / "skills"
CASES = {
    "critique": {"three-critics", "one-critic", "critic-fails"},
    "refine": {"reaches-target", "returns-last", "first-draft-good-enough"},
    "book-trip": {"approved", "rejected", "times-out"},
}


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user skills, no real home: only the repository's skills are found."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "home"))
    for name in ("SAGAFLOW_SKILLS_PATH", "CLAUDE_CONFIG_DIR", "SAGAFLOW_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_of_the_example_passes(name: str) -> None:
    report = SkillRunner().check(str(SKILLS / name))
    assert {r.case.name for r in report.results} == CASES[name]
    assert report.failed == 0, [r.line() for r in report.results]


def test_book_trip_rejection_names_who_and_why() -> None:
    seen = SkillRunner().run(str(SKILLS / "book-trip"), args={"destination": "Porto"},
                             answers=[{"reject": "book", "by": "ana", "reason": "too expensive"}])
    assert seen.status == "FAILED"
    assert seen.error == "not booked: ana rejected it (too expensive)"
    assert seen.steps[-2:] == ["trip_cancel", "trip_cancel"]  # hotel, then flight


@pytest.mark.parametrize(("name", "args", "message"), [
    ("refine", {"topic": "tide pools", "rounds": "0"},
     "--rounds must be a whole number from 1 to 10, not '0'"),
    ("refine", {"topic": "tide pools", "target": "eleven"},
     "--target must be a whole number from 1 to 10, not 'eleven'"),
    ("critique", {"text": "Hi.", "critics": "clarity,style"},
     "--critics takes a comma-separated list of clarity, evidence, audience, not style"),
    ("book-trip", {"destination": "Lisbon", "nights": "-2"},
     "--nights must be a whole number from 1 to 30, not '-2'"),
])
def test_bad_arguments_are_refused_with_the_fix(name: str, args: dict[str, str], message: str) -> None:
    with pytest.raises(SagaflowError) as refused:
        SkillRunner().run(str(SKILLS / name), args=args)
    assert message in str(refused.value)
