"""Tests for sagaflow.inbox (INBOX.md: render/parse, append, dismiss, locking)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from sagaflow import inbox
from sagaflow.errors import InboxError
from sagaflow.inbox import HEADER, Entry, Problem, parse, render_entry

TS = "2026-11-21T10:15:00+00:00"

TRICKY_SUMMARY = "\n".join(
    [
        "First line with **bold** and `code`.",
        "",
        "# A markdown heading",
        "- bullet one",
        "   indented line   ",
        "",
        "",
        "> already quoted",
        ">",
        "<!-- sagaflow:end -->",
        "<!-- sagaflow:entry run=fake-run status=DONE state=unread -->",
        "### DONE · fake · 2026-01-01T00:00:00+00:00",
        "run `fake-run`",
        "```",
        "last line",
    ]
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("SAGAFLOW_NO_NOTIFY", "1")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sagaflow" / "INBOX.md"


def entry(run: str, status: str = "DONE", summary: str = "hello", **kw: object) -> Entry:
    fields: dict[str, object] = {"skill": "hello-world", "timestamp": TS}
    fields.update(kw)
    return Entry(run_id=run, status=status, summary=summary, **fields)  # type: ignore[arg-type]


# --- render / parse ------------------------------------------------------------


def test_render_shape() -> None:
    text = render_entry(entry("hello-world-20261121-101500-k3f9", summary="hello, alice"))
    assert text == (
        "<!-- sagaflow:entry run=hello-world-20261121-101500-k3f9 status=DONE state=unread -->\n"
        f"### DONE · hello-world · {TS}\n"
        "run `hello-world-20261121-101500-k3f9`\n"
        "\n"
        "> hello, alice\n"
        "<!-- sagaflow:end -->\n"
        "\n"
    )


def test_round_trip_tricky_summary() -> None:
    original = entry("r-1", summary=TRICKY_SUMMARY, note="scripted replies, no model called")
    entries, problems = parse(HEADER + render_entry(original))
    assert problems == []
    assert entries == [original]


def test_round_trip_many_entries_and_read_state() -> None:
    originals = [
        entry("r-1", summary="one"),
        entry("r-2", status="FAILED", summary="two\n\nlines", unread=False),
        entry("r-3", summary=TRICKY_SUMMARY, skill="other-skill"),
    ]
    text = HEADER + "".join(render_entry(e) for e in originals)
    entries, problems = parse(text)
    assert problems == []
    assert entries == originals


def test_summary_with_leading_blank_line_round_trips() -> None:
    original = entry("r-1", summary="\n\nafter two blank lines")
    assert parse(render_entry(original)) == ([original], [])


def test_trailing_newlines_and_empty_summary() -> None:
    entries, _ = parse(render_entry(entry("r-1", summary="text\n\n\n")))
    assert entries[0].summary == "text"
    entries, _ = parse(render_entry(entry("r-2", summary="")))
    assert entries[0].summary == "(no summary)"


def test_empty_text_parses_to_nothing() -> None:
    assert parse("") == ([], [])
    assert parse(HEADER) == ([], [])


def test_garbled_line_is_reported_and_others_parse() -> None:
    first, second = entry("r-1", summary="a"), entry("r-2", summary="b\nc")
    before = HEADER + render_entry(first)
    text = before + "this line is garbage\n\n" + render_entry(second)
    entries, problems = parse(text)
    assert entries == [first, second]
    assert problems == [Problem(before.count("\n") + 1, "this line is garbage")]
    assert text.split("\n")[problems[0].line - 1] == "this line is garbage"


def test_broken_entry_is_reported_at_its_marker_line() -> None:
    good_before, good_after = entry("r-1"), entry("r-3")
    prefix = HEADER + render_entry(good_before)
    broken = (
        "<!-- sagaflow:entry run=r-2 status=DONE state=unread -->\n"
        "this is not a title line\n"
        "> body\n"
        "<!-- sagaflow:end -->\n\n"
    )
    entries, problems = parse(prefix + broken + render_entry(good_after))
    assert entries == [good_before, good_after]
    marker_line = prefix.count("\n") + 1
    # the whole broken entry is one region, reported once
    assert problems == [
        Problem(marker_line, "<!-- sagaflow:entry run=r-2 status=DONE state=unread -->", 4)
    ]
    assert problems[0].last == marker_line + 3


def test_entry_without_end_marker_is_a_problem() -> None:
    good = entry("r-1")
    text = HEADER + render_entry(good) + render_entry(entry("r-2")).replace(
        "<!-- sagaflow:end -->\n", ""
    )
    entries, problems = parse(text)
    assert entries == [good]
    assert problems and problems[0].text.startswith("<!-- sagaflow:entry run=r-2")


def test_unquoted_body_line_is_kept_rather_than_losing_the_entry() -> None:
    text = render_entry(entry("r-1", summary="x")).replace("> x\n", "> x\nraw line\n")
    entries, problems = parse(text)
    assert entries == [entry("r-1", summary="x\nraw line")]
    assert problems == []


# --- timestamps ----------------------------------------------------------------


@pytest.fixture
def india_tz() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "IST-5:30"  # POSIX form: UTC+05:30, no tzdata needed
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_naive_timestamp_gets_local_timezone(india_tz: None) -> None:
    assert inbox.normalize_timestamp("2026-01-15T10:00:00") == "2026-01-15T10:00:00+05:30"


def test_aware_timestamp_is_kept(india_tz: None) -> None:
    assert inbox.normalize_timestamp("2026-01-15T10:00:00-03:00") == "2026-01-15T10:00:00-03:00"


@pytest.mark.parametrize("value", [None, "", "not a date"])
def test_missing_or_bad_timestamp_becomes_now_with_timezone(value: str | None) -> None:
    before = datetime.now().astimezone().replace(microsecond=0)
    parsed = datetime.fromisoformat(inbox.normalize_timestamp(value))
    after = datetime.now().astimezone()
    assert parsed.tzinfo is not None
    assert before <= parsed <= after


def test_append_normalizes_naive_timestamp(path: Path) -> None:
    assert inbox.append(path, entry("r-1", timestamp="2026-01-15T10:00:00"))
    (stored,), _ = inbox.read(path)
    parsed = datetime.fromisoformat(stored.timestamp)
    assert parsed.tzinfo is not None
    assert parsed.astimezone().replace(tzinfo=None) == datetime(2026, 1, 15, 10, 0, 0)


# --- append --------------------------------------------------------------------


def test_append_creates_file_with_header_and_round_trips(path: Path) -> None:
    original = entry("r-1", summary=TRICKY_SUMMARY, note="a note")
    assert not path.exists()
    assert inbox.append(path, original) is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert text.count(HEADER) == 1
    assert inbox.read(path) == ([original], [])
    assert inbox.has_entry(path, "r-1")
    assert not inbox.has_entry(path, "r-2")


def test_append_is_idempotent_per_run_and_status(path: Path) -> None:
    assert inbox.append(path, entry("r-1", "DONE", "first")) is True
    snapshot = path.read_bytes()
    assert inbox.append(path, entry("r-1", "DONE", "a retry with other text")) is False
    assert path.read_bytes() == snapshot
    assert inbox.append(path, entry("r-1", "FAILED", "another status")) is True
    assert inbox.append(path, entry("r-2", "DONE", "another run")) is True
    entries, problems = inbox.read(path)
    assert problems == []
    assert [(e.run_id, e.status, e.summary) for e in entries] == [
        ("r-1", "DONE", "first"),
        ("r-1", "FAILED", "another status"),
        ("r-2", "DONE", "another run"),
    ]


def test_append_not_fooled_by_a_quoted_marker_or_a_key(path: Path) -> None:
    quoted = "<!-- sagaflow:entry run=r-2 status=DONE state=unread -->"
    assert inbox.append(path, entry("r-1", "DONE", quoted)) is True
    assert inbox.append(path, replace(entry("r-2", "DONE", "gate"), key="k1")) is True
    assert inbox.append(path, entry("r-2", "DONE", "the real one")) is True
    assert inbox.append(path, entry("r-2", "DONE", "a retry")) is False
    assert inbox.append(path, replace(entry("r-2", "DONE", "gate retry"), key="k1")) is False
    entries, problems = inbox.read(path)
    assert problems == []
    assert [(e.run_id, e.key, e.summary) for e in entries] == [
        ("r-1", "", quoted), ("r-2", "k1", "gate"), ("r-2", "", "the real one"),
    ]


def test_append_is_idempotent_even_after_dismiss(path: Path) -> None:
    inbox.append(path, entry("r-1"))
    inbox.dismiss(path, ["r-1"])
    assert inbox.append(path, entry("r-1")) is False
    (only,), _ = inbox.read(path)
    assert only.unread is False


def test_append_idempotent_for_status_with_space(path: Path) -> None:
    # The marker stores "NEEDS_REVIEW"; a retried append must still be recognised.
    assert inbox.append(path, entry("r-1", "NEEDS REVIEW")) is True
    assert inbox.append(path, entry("r-1", "NEEDS REVIEW")) is False
    assert inbox.append(path, entry("r-1", "NEEDS  REVIEW ")) is False
    entries, problems = inbox.read(path)
    assert problems == []
    assert [(e.run_id, e.status) for e in entries] == [("r-1", "NEEDS_REVIEW")]


def test_append_to_unwritable_location_raises_inbox_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InboxError, match="lock"):
        inbox.append(blocker / "INBOX.md", entry("r-1"))


# --- dismiss -------------------------------------------------------------------


def fill(path: Path, runs: list[str]) -> None:
    for run in runs:
        assert inbox.append(path, entry(run, summary=f"summary of {run}"))


def unread(path: Path) -> list[str]:
    entries, problems = inbox.read(path)
    assert problems == []
    return [e.run_id for e in entries if e.unread]


def test_dismiss_specific_ids(path: Path) -> None:
    fill(path, ["r-1", "r-2", "r-3"])
    assert inbox.dismiss(path, ["r-3", "r-1"]) == ["r-1", "r-3"]
    assert unread(path) == ["r-2"]
    # already read: nothing to change
    assert inbox.dismiss(path, ["r-1"]) == []
    entries, _ = inbox.read(path)
    assert [e.summary for e in entries] == [f"summary of r-{i}" for i in (1, 2, 3)]


def test_dismiss_all(path: Path) -> None:
    fill(path, ["r-1", "r-2", "r-3"])
    inbox.dismiss(path, ["r-2"])
    assert inbox.dismiss(path, None) == ["r-1", "r-3"]
    assert unread(path) == []
    assert inbox.dismiss(path, None) == []


def test_dismiss_marks_every_status_of_a_run(path: Path) -> None:
    inbox.append(path, entry("r-1", "DONE"))
    inbox.append(path, entry("r-1", "FAILED"))
    assert inbox.dismiss(path, ["r-1"]) == ["r-1"]
    entries, _ = inbox.read(path)
    assert [e.unread for e in entries] == [False, False]


def test_dismiss_unknown_id_raises_and_changes_nothing(path: Path) -> None:
    fill(path, ["r-1", "r-2"])
    snapshot = path.read_bytes()
    with pytest.raises(InboxError, match="nope"):
        inbox.dismiss(path, ["r-1", "nope"])
    assert path.read_bytes() == snapshot
    assert unread(path) == ["r-1", "r-2"]
    with pytest.raises(InboxError):
        inbox.dismiss(path, ["nope"])
    assert path.read_bytes() == snapshot


def test_dismiss_on_missing_inbox(path: Path) -> None:
    assert inbox.dismiss(path, None) == []
    with pytest.raises(InboxError):
        inbox.dismiss(path, ["r-1"])


def test_dismiss_keeps_garbled_lines_and_summaries(path: Path) -> None:
    fill(path, ["r-1"])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("stray garbage line\n\n")
    inbox.append(path, entry("r-2", summary=TRICKY_SUMMARY))
    assert inbox.dismiss(path, None) == ["r-1", "r-2"]
    text = path.read_text(encoding="utf-8")
    assert "stray garbage line" in text
    # the fake marker inside the summary is quoted, so it is left alone
    assert "> <!-- sagaflow:entry run=fake-run status=DONE state=unread -->" in text
    entries, problems = inbox.read(path)
    assert [p.text for p in problems] == ["stray garbage line"]
    assert [e.unread for e in entries] == [False, False]
    assert entries[1].summary == TRICKY_SUMMARY
    assert not path.with_name("INBOX.md.tmp").exists()


# --- concurrency ---------------------------------------------------------------

WRITERS = 8
PER_WRITER = 50

APPENDER = r"""
import sys, time
from pathlib import Path
from sagaflow import inbox

path, worker, go = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
for n in range(int(sys.argv[4])):
    run = f"w{worker}-n{n:03d}"
    summary = f"first {run}\n\n# heading {run}\n<!-- sagaflow:end -->\nlast {run}"
    written = inbox.append(path, inbox.Entry(
        run_id=run, status="DONE", skill=f"skill-{worker}", summary=summary, timestamp="",
    ))
    if not written:
        sys.exit(f"append of {run} reported a duplicate")
"""

DISMISSER = r"""
import json, sys, time
from pathlib import Path
from sagaflow import inbox

path, go, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    time.sleep(0.002)
total = rounds = 0
while not stop.exists():
    if rounds % 2:
        entries, _ = inbox.read(path)
        some = [e.run_id for e in entries if e.unread][:5]
        if some:
            total += len(inbox.dismiss(path, some))
    else:
        total += len(inbox.dismiss(path, None))
    rounds += 1
    time.sleep(0.001)
total += len(inbox.dismiss(path, None))
print(json.dumps({"total": total, "rounds": rounds}))
"""


def expected_summary(run: str) -> str:
    return f"first {run}\n\n# heading {run}\n<!-- sagaflow:end -->\nlast {run}"


def test_concurrent_appenders_and_dismisser(path: Path, tmp_path: Path) -> None:
    go, stop = tmp_path / "go", tmp_path / "stop"
    env = dict(os.environ)
    dismisser = subprocess.Popen(
        [sys.executable, "-c", DISMISSER, str(path), str(go), str(stop)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(path), str(i), str(go), str(PER_WRITER)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(WRITERS)
    ]
    try:
        time.sleep(0.5)  # let every interpreter start and import before the race
        go.touch()
        for proc in writers:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
        stop.touch()
        out, err = dismisser.communicate(timeout=60)
        assert dismisser.returncode == 0, err
    finally:
        for proc in [*writers, dismisser]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    report = json.loads(out)

    entries, problems = inbox.read(path)
    assert problems == []
    assert len(entries) == WRITERS * PER_WRITER
    expected_runs = {f"w{w}-n{n:03d}" for w in range(WRITERS) for n in range(PER_WRITER)}
    assert {e.run_id for e in entries} == expected_runs
    for e in entries:
        worker = e.run_id.split("-")[0][1:]
        assert e.skill == f"skill-{worker}"
        assert e.status == "DONE"
        assert e.summary == expected_summary(e.run_id)
        assert not e.unread
    # each entry went from unread to read exactly once, so no dismissal lost an append
    assert report["total"] == WRITERS * PER_WRITER
    assert report["rounds"] >= 1

    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER) and text.count(HEADER) == 1
    assert text.count("<!-- sagaflow:entry ") == WRITERS * PER_WRITER
    assert text.count("\n<!-- sagaflow:end -->\n") == WRITERS * PER_WRITER
    # per writer, entries keep their append order
    for w in range(WRITERS):
        mine = [e.run_id for e in entries if e.run_id.startswith(f"w{w}-")]
        assert mine == sorted(mine)
