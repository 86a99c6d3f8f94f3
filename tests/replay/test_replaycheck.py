"""``replay_check`` on committed histories: compatible on today's skills, the first
divergence (event, history vs code) on an edited copy of a skill."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from harness import TESTS, Engine
from test_replay import history

from sagaflow.errors import SkillLoadError, UnknownSkillError
from sagaflow.runs.divergence import divergence
from sagaflow.runs.replaycheck import replay_check
from sagaflow.skills.discovery import load_skills


def test_todays_skills_replay_their_histories(engine: Engine) -> None:
    checks = asyncio.run(replay_check(
        None, engine.home, engine.settings, "gated", loaded=engine.loaded,
        histories=[history("gate-approved"), history("paused"), history("cancelled")]))
    assert [(c.run_id, c.compatible) for c in checks] == [
        ("replay-gate-approved", True), ("replay-paused", True), ("replay-cancelled", True)]
    assert checks[0].line() == "replay-gate-approved (unknown): compatible"


def _edited_gated(root: Path, old: str, new: str) -> None:
    skill = root / ".claude" / "skills" / "gated"
    shutil.copytree(TESTS / "skills" / "gated", skill)
    source = skill / "workflow.py"
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new, 1))


def test_an_edit_before_the_gate_is_reported_with_its_event(engine: Engine) -> None:
    # a timer where the run wrote its draft first
    _edited_gated(engine.root, "        await _write(f\"{inp.run_dir}/draft.txt\"",
                  "        await workflow.sleep(1)\n        await _write(f\"{inp.run_dir}/draft.txt\"")
    edited = load_skills(engine.root)
    [check] = asyncio.run(replay_check(None, engine.home, engine.settings, "gated",
                                       loaded=edited, histories=[history("gate-approved")]))
    assert check.compatible is False, check
    assert check.event_id is not None and check.expected == "ActivityTaskScheduled", check
    assert check.found == "StartTimer", check
    assert check.detail.startswith("[TMPRL1100] Nondeterminism error: Timer machine"), check
    # in a batch (one replay worker for all), each run gets its own verdict
    checks = asyncio.run(replay_check(
        None, engine.home, engine.settings, "gated", loaded=edited,
        histories=[history("hello-world"), history("gate-approved"), history("signal")]))
    assert [(c.run_id, c.compatible) for c in checks] == [
        ("replay-hello-world", True), ("replay-gate-approved", False), ("replay-signal", True)]
    assert check.line().startswith(
        f"replay-gate-approved (unknown): incompatible at event {check.event_id}: "
        "history has ActivityTaskScheduled, the code now issues StartTimer (")


def test_a_renamed_activity_is_reported_by_name(engine: Engine) -> None:
    _edited_gated(engine.root, '"write_artifact", WriteArtifactInput',
                  '"emit_finding", WriteArtifactInput')
    edited = load_skills(engine.root)
    [check] = asyncio.run(replay_check(None, engine.home, engine.settings, "gated",
                                       loaded=edited, histories=[history("gate-approved")]))
    assert check.compatible is False, check
    assert "write_artifact" in (check.expected or "") + check.detail, check
    assert "emit_finding" in (check.found or "") + check.detail, check


def test_unknown_and_broken_skills_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownSkillError, match=r"Unknown skill 'gatd'.*Did you mean gated"):
        asyncio.run(replay_check(None, engine.home, engine.settings, "gatd",
                                 loaded=engine.loaded, histories=[]))
    with pytest.raises(SkillLoadError, match="cannot be checked until it loads"):
        asyncio.run(replay_check(None, engine.home, engine.settings, "broken-syntax",
                                 loaded=engine.loaded, histories=[]))


@pytest.mark.parametrize(("message", "expected"), [
    ("[TMPRL1100] Nondeterminism error: Timer machine does not handle this event: "
     "HistoryEvent(id: 5, ActivityTaskScheduled)", (5, "ActivityTaskScheduled", "StartTimer")),
    ("[TMPRL1100] Nondeterminism error: No command scheduled for event "
     "HistoryEvent(id: 9, TimerStarted)", (9, "TimerStarted", None)),
    ("something else entirely", (None, None, None)),
])
def test_divergence_reads_the_cores_messages(message: str, expected: tuple[object, ...]) -> None:
    assert divergence(message) == expected


def test_a_history_of_a_workflow_the_code_lacks_is_not_checked(engine: Engine) -> None:
    only_gated = load_skills(engine.root, only="gated")  # hello-world's workflow is missing
    [check] = asyncio.run(replay_check(None, engine.home, engine.settings, "gated",
                                       loaded=only_gated, histories=[history("hello-world")]))
    assert check.compatible is None, check
    assert "HelloWorldWorkflow" in check.detail, check
    assert check.line().startswith("replay-hello-world (unknown): not checked: ")
