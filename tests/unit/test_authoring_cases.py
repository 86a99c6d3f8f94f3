"""Case files (``<skill>/tests/*.yaml``) and expectation checking, without Temporal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagaflow.authoring.casefile import load_case, load_cases
from sagaflow.authoring.cases import Answer, CaseError, Expect, launch_args, parse_answer
from sagaflow.authoring.expect import Observed, differences
from sagaflow.errors import UsageError
from sagaflow.inbox_format import Entry


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_case_reads_every_key(tmp_path: Path) -> None:
    case = load_case(write(tmp_path, """\
args: {name: alice, dry-run: true, count: 3}
text: cats "and dogs"
replies: other.yaml
answers:
  - {approve: book, by: ann, comment: ok}
  - {reject: publish, reason: too expensive}
  - {signal: manager_approval, payload: {ok: true}}
  - {signal: go}
timeout: 5
expect:
  status: DONE
  result: {a: 1}
  result_contains: alice
  error_contains: nope
  inbox: {status: DONE, summary_contains: hello}
  steps: [spawn_subagent, emit_finding]
  model_calls: 1
"""))
    assert case.name == "case"
    assert case.args == {"name": "alice", "dry_run": "true", "count": "3",
                         "_extra": json.dumps(["cats", "and dogs"])}
    assert case.replies == Path("other.yaml")
    assert [a.describe() for a in case.answers] == [
        "approve book", "reject publish", "signal manager_approval", "signal go"]
    assert case.answers[0].by == "ann" and case.answers[0].line == 5
    assert case.answers[1].by == "tester" and case.answers[1].reason == "too expensive"
    assert case.answers[2].payload == {"ok": True} and case.answers[2].has_payload
    assert not case.answers[3].has_payload
    assert case.timeout == 5.0
    assert case.expect == Expect(
        status="DONE", result={"a": 1}, has_result=True, result_contains="alice",
        error_contains="nope", inbox={"status": "DONE", "summary_contains": "hello"},
        steps=["spawn_subagent", "emit_finding"], model_calls=1)


def test_a_replies_file_is_checked_in_the_skill_directory(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tmp_path / "other.yaml").write_text("replies: []\n")
    assert load_case(write(tests, "replies: other.yaml\n")).replies == Path("other.yaml")
    path = write(tests, "args: {}\nreplies: missing.yaml\n")
    with pytest.raises(CaseError, match=rf"^{path}:2: replies file 'missing.yaml' does not exist"):
        load_case(path)


def test_inline_replies_become_a_replies_mapping(tmp_path: Path) -> None:
    case = load_case(write(tmp_path, "replies:\n  - {match: 'x', reply: 'y'}\n"))
    assert case.replies == {"replies": [{"match": "x", "reply": "y"}]}
    turns = load_case(write(tmp_path, "replies: {turns: [{text: done}]}\n"))
    assert turns.replies == {"turns": [{"text": "done"}]}


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("args: {a: 1}\nexpect:\n  stauts: DONE\n", 3, "unknown key 'stauts' in expect (did you mean 'status'?)"),
    ("arg: {a: 1}\n", 1, "unknown key 'arg' in a case (did you mean 'args'?)"),
    ("expect: {status: [1, 2\n", 2, "not valid YAML"),
    ("answers:\n  - {approve: a, reson: x}\n", 2, "unknown key 'reson' in an answer"),
    ("answers:\n  - {approve: a, payload: 1}\n", 2, "approve answers take by, comment, not 'payload'"),
    ("answers:\n  - {approve: a, signal: b}\n", 2, "exactly one of approve, reject, signal"),
    ("answers:\n  - {by: me}\n", 2, "exactly one of approve, reject, signal"),
    ("answers: {approve: a}\n", 1, "answers must be a list"),
    ("expect:\n  steps: spawn_subagent\n", 2, "expect.steps must be a list"),
    ("expect:\n  model_calls: -1\n", 2, "whole number"),
    ("timeout: soon\n", 1, "timeout must be seconds above 0"),
    ("args:\n  name:\n", 2, "args.name has no value"),
    ("text: {a: 1}\n", 1, "text must be words"),
    ("replies: 3\n", 1, "replies must be a file name"),
    ("expect:\n  inbox: {status: DONE, summry: x}\n", 2, "unknown key 'summry' in expect.inbox"),
    ("- 1\n- 2\n", 1, "a case must be a mapping"),
    ("", 1, "the case is empty"),
])
def test_bad_cases_are_one_line_with_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CaseError) as caught:
        load_case(path)
    assert caught.value.message.startswith(f"{path}:{line}: "), caught.value.message
    assert needle in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_load_cases_orders_by_name_and_picks_one(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ("b.yaml", "a.yml", "notes.txt"):
        (tests / name).write_text("expect: {status: DONE}\n")
    assert [c.name for c in load_cases(tmp_path)] == ["a", "b"]
    assert [c.name for c in load_cases(tmp_path, "b")] == ["b"]
    with pytest.raises(UsageError, match=r"No case 'c'.*its cases: a, b"):
        load_cases(tmp_path, "c")
    assert load_cases(tmp_path / "missing") == []


def test_answers_and_args_from_python_values() -> None:
    assert parse_answer({"reject": "x", "reason": "no"}) == Answer("reject", "x", reason="no")
    with pytest.raises(ValueError, match="signal answers take payload, not 'by'"):
        parse_answer({"signal": "x", "by": "me"})
    assert launch_args({"n": 2, "flag": False}, ["a b", "c"]) == {
        "n": "2", "flag": "false", "_extra": json.dumps(["a b", "c"])}
    assert launch_args(None, "") == {}


def seen(**changes: object) -> Observed:
    base = Observed(run_id="r", status="DONE", result="hello, alice",
                    inbox=Entry("r", "DONE", "s", "hello, alice", "t"),
                    steps=["write_artifact", "spawn_subagent", "emit_finding"], model_calls=1)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_a_matching_run_has_no_differences() -> None:
    expect = Expect(status="done", result="hello, alice", has_result=True,
                    result_contains="alice", inbox={"status": "DONE", "summary": "hello, alice",
                                                    "summary_contains": "hello"},
                    steps=["write_artifact", "emit_finding"], model_calls=1)
    assert differences(expect, seen()) == []
    assert differences(Expect(), seen(status="FAILED", result=None)) == []


def test_each_difference_says_what_was_expected_and_what_happened() -> None:
    run = seen(status="FAILED", result={"b": [1]}, error="step spawn_subagent failed: boom",
               inbox=Entry("r", "FAILED", "s", "boom", "t"), steps=["spawn_subagent"],
               model_calls=2, notes=["answer approve x (line 3) was never asked for"])
    found = differences(Expect(
        status="DONE", result={"b": [2]}, has_result=True, result_contains="alice",
        error_contains="timeout", inbox={"status": "DONE", "summary_contains": "hello"},
        steps=["spawn_subagent", "emit_finding"], model_calls=1), run)
    assert found == [
        "answer approve x (line 3) was never asked for",
        "status: expected DONE, got FAILED (step spawn_subagent failed: boom)",
        'result: expected {"b": [2]}, got {"b": [1]}',
        'result: expected it to contain "alice", got {"b": [1]}',
        'error: expected it to contain "timeout", got "step spawn_subagent failed: boom"',
        "inbox.status: expected DONE, got FAILED",
        'inbox.summary: expected it to contain "hello", got "boom"',
        "steps: expected spawn_subagent, emit_finding in this order; emit_finding is missing "
        "from spawn_subagent",
        "model_calls: expected 1, got 2",
    ]


def test_steps_are_a_subsequence_in_order() -> None:
    run = seen(steps=["a", "b", "c", "b"])
    assert differences(Expect(steps=["a", "c", "b"]), run) == []
    assert differences(Expect(steps=["c", "a"]), run)
    assert differences(Expect(steps=[]), seen(steps=[])) == []


def test_result_contains_reads_non_text_results_as_json() -> None:
    assert differences(Expect(result_contains='"ok": true'), seen(result={"ok": True})) == []
    assert differences(Expect(inbox={"status": "DONE"}), seen(inbox=None)) == [
        "inbox: expected an entry, the run wrote none"]
