"""Inbox entries per Temporal execution, and entries that ask for an action (issue 8 items 1, 3).

Pure file tests of :mod:`sagaflow.inbox` / :mod:`sagaflow.inbox_format`: every execution of
one run id keeps its own entry (a second DONE or FAILED never collapses into the first),
the second and later say ``attempt N · Temporal run ID``, and NEEDS APPROVAL entries are
retired per run or per execution.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow import inbox
from sagaflow.inbox_format import execution_key, execution_of, execution_tail
from sagaflow.paths import Home
from sagaflow.runs.inboxsync import record_stopped, waiting_runs

TS = "2026-11-29T10:00:00+00:00"
EXEC_1 = "0196f0a2-1111-7aaa-8bbb-000000000001"
EXEC_2 = "0196f0a2-2222-7aaa-8bbb-000000000002"
EXEC_3 = "0196f0a2-3333-7aaa-8bbb-000000000003"


def _entry(status: str, summary: str = "", key: str = "", run: str = "r-1") -> inbox.Entry:
    return inbox.Entry(run_id=run, status=status, skill="s", summary=summary or status,
                       timestamp=TS, key=key)


def _entries(path: Path, run: str = "r-1") -> list[inbox.Entry]:
    found, problems = inbox.read(path)
    assert not problems
    return [e for e in found if e.run_id == run]


def test_execution_keys_round_trip() -> None:
    assert execution_tail(EXEC_2) == "000000000002"
    assert execution_key("", EXEC_2) == "000000000002"
    assert execution_key("publish-1", EXEC_2) == "publish-1@000000000002"
    assert execution_key("publish-1", "") == "publish-1"
    assert execution_of("publish-1@000000000002") == "000000000002"
    assert execution_of("000000000002") == "000000000002"
    assert execution_of("publish-1") == "" and execution_of("") == ""


def test_every_execution_reports_and_the_second_says_which(tmp_path: Path) -> None:
    path = tmp_path / "INBOX.md"
    assert inbox.append(path, _entry("FAILED", "HTTP 401: invalid x-api-key"), execution=EXEC_1)
    assert not inbox.append(path, _entry("FAILED", "again"), execution=EXEC_1)  # activity retry
    assert inbox.append(path, _entry("FAILED", "HTTP 400: prompt too long"), execution=EXEC_2)
    assert inbox.append(path, _entry("DONE", "ok"), execution=EXEC_3)
    assert inbox.append(path, _entry("DONE", "ok again"), execution=EXEC_1)  # a late DONE of #1
    first, second, third, late = _entries(path)
    assert [e.summary for e in (first, second, third)] == [
        "HTTP 401: invalid x-api-key", "HTTP 400: prompt too long", "ok"]
    assert first.note == "" and late.note == ""  # the first execution is the run itself
    assert second.note == f"attempt 2 · Temporal run {EXEC_2}"
    assert third.note == f"attempt 3 · Temporal run {EXEC_3}"


def test_the_attempt_note_follows_an_entrys_own_note(tmp_path: Path) -> None:
    path = tmp_path / "INBOX.md"
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1"), execution=EXEC_1)
    noted = inbox.Entry(run_id="r-1", status="DONE", skill="s", summary="x", timestamp=TS,
                        note="scripted replies, no model called")
    inbox.append(path, noted, execution=EXEC_2)
    assert _entries(path)[-1].note == (
        f"scripted replies, no model called · attempt 2 · Temporal run {EXEC_2}")


def test_retire_matches_the_execution_key_and_the_bare_one(tmp_path: Path) -> None:
    path = tmp_path / "INBOX.md"
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1"))  # written before keys
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1"), execution=EXEC_2)
    assert [e.key for e in _entries(path)] == ["publish-1", "publish-1@000000000002"]
    assert inbox.retire(path, "r-1", "NEEDS APPROVAL", "publish-1", execution=EXEC_2)
    assert [e.unread for e in _entries(path)] == [False, False]


def test_retire_waiting_keeps_the_open_execution_and_other_runs(tmp_path: Path) -> None:
    path = tmp_path / "INBOX.md"
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1"), execution=EXEC_1)
    inbox.append(path, _entry("NEEDS APPROVAL", key="budget-2"), execution=EXEC_2)
    inbox.append(path, _entry("DONE"), execution=EXEC_1)
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1", run="r-2"), execution=EXEC_3)
    assert inbox.retire_waiting(path, "r-1", keep_execution=EXEC_2)
    assert [(e.status, e.unread) for e in _entries(path)] == [
        ("NEEDS_APPROVAL", False), ("NEEDS_APPROVAL", True), ("DONE", True)]
    assert inbox.retire_waiting(path, "r-1")
    assert [e.unread for e in _entries(path)] == [False, False, True]  # DONE asks nothing
    assert not inbox.retire_waiting(path, "r-1")
    assert [e.unread for e in _entries(path, "r-2")] == [True]
    assert not inbox.retire_waiting(tmp_path / "none.md", "r-1")


@pytest.mark.parametrize("keep", [EXEC_2, ""])
def test_an_entry_naming_no_execution_stays_for_the_open_one(tmp_path: Path, keep: str) -> None:
    path = tmp_path / "INBOX.md"
    inbox.append(path, _entry("NEEDS APPROVAL", key="publish-1"))  # pre-upgrade gate
    inbox.retire_waiting(path, "r-1", keep_execution=keep)
    assert _entries(path)[0].unread is bool(keep)


def test_record_stopped_retires_and_records_a_read_entry(tmp_path: Path) -> None:
    home = Home(tmp_path)
    inbox.append(home.inbox, _entry("NEEDS APPROVAL", key="publish-1"), execution=EXEC_1)
    assert waiting_runs(home) == {"r-1": {"000000000001"}}
    record_stopped(home, "r-1", "gated", EXEC_1, "TERMINATED", "terminated: wrong draft")
    needs, ended = _entries(home.inbox)
    assert not needs.unread
    assert (ended.status, ended.summary, ended.unread, ended.key) == (
        "TERMINATED", "terminated: wrong draft", False, "000000000001")
    assert waiting_runs(home) == {}
    record_stopped(home, "r-1", "gated", EXEC_1, "TERMINATED", "terminated: twice")
    assert len(_entries(home.inbox)) == 2  # one ending per execution


def test_a_question_is_an_entry_that_asks_for_an_action(tmp_path: Path) -> None:
    # a run's ending retires every entry that asks for something, questions included
    path = tmp_path / "INBOX.md"
    inbox.append(path, inbox.Entry(
        run_id="r1", status="QUESTION", skill="s", summary="Go on?",
        timestamp="2026-11-29T12:00:00", key="q1"))
    assert inbox.retire_waiting(path, "r1")
    entries, _problems = inbox.read(path)
    assert entries and not any(e.unread for e in entries)
