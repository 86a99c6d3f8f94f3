"""The offline runner behind ``sagaflow test`` and ``sagaflow.testing``: real runs on the
in-process time-skipping server, answers given when the run waits, what it observes."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sagaflow.authoring import scaffold
from sagaflow.authoring.cases import parse_answer
from sagaflow.authoring.expect import Observed
from sagaflow.authoring.runner import OfflineRunner
from sagaflow.authoring.suite import run_tests
from sagaflow.errors import UsageError
from sagaflow.skills.discovery import load_skills

TESTS = Path(__file__).resolve().parents[1]
T = TypeVar("T")

SLEEPY = '''
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import ApprovalGate, sleep


@workflow.defn(name="SleepyWorkflow")
class SleepyWorkflow:
    @workflow.run
    async def run(self, inp: dict) -> str:
        await sleep(7200)                       # two hours, then a gate that times out in ten minutes
        first = await ApprovalGate(timeout_seconds=600).wait("go")
        await sleep(60)
        second = await ApprovalGate().wait("again")   # no timeout at all
        return f"{first.approved} {first.by} {first.timed_out} {second.approved}"
'''


@pytest.fixture
def skills(tmp_path: Path, home: object, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copies of test skills (gated, saga-signal, typed-review, flow-mix) plus a sleepy one
    and a SKILL.md one on SAGAFLOW_SKILLS_PATH; the working directory is empty."""
    root = tmp_path / "skills"
    for name in ("gated", "saga-signal", "typed-review", "flow-mix"):
        shutil.copytree(TESTS / "skills" / name, root / name)
    sleepy = root / "sleepy"
    sleepy.mkdir()
    (sleepy / "workflow.py").write_text(SLEEPY)
    (sleepy / "__init__.py").write_text(textwrap.dedent('''
        from sagaflow.registry import SkillRegistry, SkillSpec
        from skills.sleepy.workflow import SleepyWorkflow

        def register(registry: SkillRegistry) -> None:
            registry.register(SkillSpec(name="sleepy", workflow_cls=SleepyWorkflow,
                                        uses_model=False))
    '''))
    notes = root / "notes"
    notes.mkdir()
    (notes / "SKILL.md").write_text("---\nname: notes\ndescription: d\n---\nSummarize $ARGUMENTS.\n")
    (notes / "replies.yaml").write_text(
        "turns:\n  - {text: Looking., tools: [{Glob: {pattern: '*.md'}}]}\n"
        "  - {text: 'About $ARGUMENTS: done.'}\n")
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(root))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return root


def offline(scenario: Callable[[OfflineRunner], Awaitable[T]]) -> T:
    async def main() -> T:
        async with OfflineRunner(load_skills()) as runner:
            return await scenario(runner)

    return asyncio.run(main())


def run(skill: str, **kwargs: Any) -> Observed:
    answers = [parse_answer(a) for a in kwargs.pop("answers", [])]
    return offline(lambda r: r.run(skill, answers=answers, **kwargs))


def test_a_model_skill_runs_offline_with_its_replies(skills: Path) -> None:
    seen = run("hello-world", args={"name": "alice"})
    assert (seen.status, seen.result, seen.error) == ("DONE", "hello, alice", "")
    assert seen.steps == ["write_artifact", "spawn_subagent", "emit_finding"]
    assert seen.model_calls == 1
    assert seen.inbox is not None and seen.inbox.summary == "hello, alice"


def test_inline_replies_replace_the_skills_own(skills: Path) -> None:
    rules = [{"match": "Greet (?P<n>.+)", "reply":
              "STRUCTURED_OUTPUT_START\nGREETING|hi there, $n\nSTRUCTURED_OUTPUT_END"}]
    assert run("hello-world", args={"name": "bo"}, replies=rules).result == "hi there, bo"
    with pytest.raises(UsageError, match=r"Scripted replies .*nope\.yaml do not exist"):
        run("hello-world", args={"name": "bo"}, replies="nope.yaml")


def test_a_reply_that_matches_nothing_fails_the_run_with_the_reason(skills: Path) -> None:
    seen = run("hello-world", args={"name": "bo"}, replies=[{"match": "zzz", "reply": "x"}])
    assert seen.status == "FAILED"
    assert "No scripted reply in replies.yaml matches the prompt 'Greet bo'" in seen.error


def test_gate_answers_approve_and_reject(skills: Path) -> None:
    seen = run("gated", answers=[{"approve": "publish", "by": "ann", "comment": "fine"}])
    assert seen.status == "DONE"
    assert seen.inbox is not None and seen.inbox.summary == "published: approved by ann (fine)"
    rejected = run("gated", answers=[{"reject": "publish", "reason": "too expensive"}])
    assert rejected.status == "FAILED" and "too expensive" in rejected.error


def test_without_an_answer_a_gate_timeout_is_skipped_not_waited(skills: Path) -> None:
    seen = run("gated", args={"default": "approve"})  # a one-hour timeout
    assert seen.status == "DONE" and seen.seconds < 10
    assert seen.inbox is not None and "timeout default" in seen.inbox.summary


def test_signal_answers_carry_their_payload(skills: Path) -> None:
    seen = run("saga-signal", answers=[
        {"signal": "manager_approval", "payload": {"approved": True, "comments": "go"}}])
    assert (seen.status, seen.result) == ("DONE", "approved: go")
    no = run("saga-signal", answers=[
        {"signal": "manager_approval", "payload": {"approved": False, "comments": "no"}}])
    assert no.status == "FAILED" and "manager said no" in no.error
    assert no.steps == ["write_artifact", "write_artifact"]  # booked, then undone


def test_sleeps_are_skipped_but_a_gates_own_timeout_is_not(skills: Path) -> None:
    seen = run("sleepy", answers=[{"approve": "go", "by": "ann"}, {"approve": "again"}])
    assert (seen.status, seen.result) == ("DONE", "True ann False True")


def test_a_run_waiting_on_something_else_is_stopped_and_named(skills: Path) -> None:
    seen = run("gated", answers=[{"approve": "publsh"}], timeout=5)
    assert seen.status == "RUNNING" and seen.waiting_on == "approval:publish"
    assert seen.notes == ["the run waits on approval:publish, but the next answer is "
                          "approve publsh (line 0)"]


def test_a_wait_nobody_answers_is_named(skills: Path) -> None:
    seen = run("sleepy", answers=[{"approve": "go"}])  # nothing for "again", no timeout
    assert seen.status == "TIMED_OUT"
    assert "still waited on approval:again" in seen.error


def test_answers_left_over_when_the_run_ends_are_reported(skills: Path) -> None:
    seen = run("gated", answers=[{"approve": "publish"}, {"signal": "late"}, {"signal": "later"}])
    assert seen.status == "DONE"
    assert seen.notes == ["answer signal late (line 0) was never asked for: the run ended first "
                          "(1 later answers unused)"]


def test_a_skillmd_skill_runs_on_the_agent_loop_in_a_fresh_workspace(skills: Path) -> None:
    seen = run("notes", args={"_extra": '["tide", "pools"]'})
    assert (seen.status, seen.result) == ("DONE", "About $ARGUMENTS: done.")
    assert seen.model_calls == 2
    assert seen.steps == ["sagaflow_agent_start", "sagaflow_agent_turn", "sagaflow_agent_tool",
                          "sagaflow_agent_turn"]
    assert not list(Path.cwd().iterdir()), "the run's workspace is not the caller's directory"


@pytest.mark.parametrize("kind", scaffold.KINDS)
def test_each_scaffold_passes_its_own_test_as_generated(skills: Path, kind: str) -> None:
    created = scaffold.create("fresh-skill", kind=kind)
    report = run_tests("fresh-skill")
    assert [r.line().split("  ")[0] for r in report.results] == ["PASS"], report.results[0].line()
    assert report.skill_dir == created.path


def test_a_failing_case_reports_each_difference(skills: Path) -> None:
    tests = skills / "gated" / "tests"
    tests.mkdir()
    (tests / "wrong.yaml").write_text(
        "answers:\n  - {approve: publish}\nexpect:\n  status: FAILED\n  steps: [emit_finding, "
        "write_artifact]\n")
    (tests / "right.yaml").write_text("answers:\n  - {approve: publish}\nexpect: {status: DONE}\n")
    report = run_tests(str(skills / "gated"))
    assert [r.passed for r in report.results] == [True, False]
    line = report.results[1].line()
    assert line.startswith("FAIL  wrong  ")
    assert "status: expected FAILED, got DONE" in line
    assert "steps: expected emit_finding, write_artifact in this order; write_artifact is " \
           "missing from write_artifact, emit_finding" in line
    assert report.summary().startswith("1 passed, 1 failed in ")
    assert report.to_dict()["cases"][1]["problems"] == report.results[1].problems


def test_typed_payloads_and_a_large_input_stored_under_the_runs_home(
    skills: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    big.write_text("word " * 50_000)  # 250 KB: stored outside history, under the run's home
    seen = run("typed-review", args={"topic": "tea", "file": str(big)})
    assert (seen.status, seen.error) == ("DONE", "")
    assert isinstance(seen.result, dict) and seen.result["echo"].startswith("word word")
    assert seen.steps == ["score_review"]


def test_flow_helpers_and_a_child_run_offline(skills: Path) -> None:
    seen = run("flow-mix", args={"topic": "tea"})
    assert seen.status == "DONE", seen.error
    assert seen.result == {"notes": ["style ok", "facts ok", "tone ok"], "draft": "second draft",
                           "verdict": "shipped", "child": {"summary": "about tea"}}
    assert seen.model_calls == 6  # 3 critics, 2 refine rounds, and the child's call
    assert seen.steps == ["spawn_subagent"] * 5  # the child's steps are its own


def test_a_run_that_continues_as_new_is_followed(skills: Path) -> None:
    seen = run("notes", args={"_extra": '["kelp"]', "turns_per_run": 1})
    assert (seen.status, seen.result) == ("DONE", "About $ARGUMENTS: done.")
    assert seen.steps.count("sagaflow_agent_turn") == 2  # one per Temporal run, both read
