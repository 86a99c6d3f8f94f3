"""INBOX.md under damage: whatever the file holds, entries are appended, read,
dismissed and shown by the hook with exact counts (the corpus is tests/inbox_corpus.py)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from inbox_corpus import FORGED_LINE, FORGED_SUMMARY, TS, Damage, block, corpus, entry

from sagaflow import inbox
from sagaflow.errors import InboxError
from sagaflow.hook import session_start_output
from sagaflow.inbox import HEADER, Problem, parse
from sagaflow.paths import Home

CORPUS = corpus()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "sagaflow")


def unread_in_hook(home: Home) -> int:
    out = session_start_output(home)
    assert out is not None and "hookSpecificOutput" in out
    context = out["hookSpecificOutput"]["additionalContext"]
    return int(context.split(" unread ")[0].rsplit(" ", 1)[1])


@pytest.mark.parametrize("damage", CORPUS, ids=[d.name for d in CORPUS])
def test_damage_then_append_read_dismiss_and_hook(home: Home, damage: Damage) -> None:
    path = home.inbox
    home.root.mkdir(parents=True)
    path.write_bytes(HEADER.encode() + block(entry("before")) + damage.data)

    started = time.perf_counter()
    assert inbox.append(path, entry("after", "the next run's entry")) is True
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"append took {elapsed:.2f}s"  # one read of the file, no parse

    entries, problems = inbox.read(path)
    assert len(entries) == 2 + damage.entries, [e.run_id for e in entries]
    assert len(problems) == damage.regions, problems
    assert entries[0] == entry("before")
    assert entries[-1] == entry("after", "the next run's entry")
    assert not {e.run_id for e in entries} & {"forged-1", "forged-2", "forged-3"}
    assert inbox.append(path, entry("after", "a retry")) is False
    assert inbox.has_entry(path, "after")
    assert unread_in_hook(home) == 2 + damage.entries

    before = path.read_bytes()
    assert inbox.dismiss(path, ["after"]) == ["after"]
    marker = b"<!-- sagaflow:entry run=after status=DONE state="
    assert path.read_bytes() == before.replace(marker + b"unread -->", marker + b"read -->")
    assert unread_in_hook(home) == 1 + damage.entries
    assert inbox.read(path)[1] == problems  # damaged bytes kept, still reported the same way

    assert len(inbox.dismiss(path, None)) == 1 + damage.entries
    out = session_start_output(home)
    if damage.regions:
        assert out is not None and set(out) == {"systemMessage"}
        assert f"{damage.regions} damaged region" in out["systemMessage"]
    else:
        assert out is None


@pytest.mark.parametrize("last", [b"\n", b"x", b"\r", b"\x00", b"\xc3", b"\xff", b">", b"-->"])
def test_append_after_any_last_byte(home: Home, last: bytes) -> None:
    home.root.mkdir(parents=True)
    home.inbox.write_bytes(HEADER.encode() + block(entry("r-1")) + b"<!-- sagaflow:entry junk" + last)
    assert inbox.append(home.inbox, entry("r-2"))
    entries, problems = inbox.read(home.inbox)
    assert entries == [entry("r-1"), entry("r-2")]
    assert len(problems) == 1 and problems[0].text.startswith("<!-- sagaflow:entry junk")


def test_forged_entry_in_model_text_stays_one_entry(home: Home) -> None:
    forged = entry("r-1", FORGED_SUMMARY, skill=FORGED_LINE, note=FORGED_LINE, status="DONE\nx")
    assert inbox.append(home.inbox, forged)
    assert inbox.append(home.inbox, entry("forged-1"))  # not mistaken for a duplicate
    (back, real), problems = inbox.read(home.inbox)
    assert problems == [] and real == entry("forged-1")
    assert (back.run_id, back.status) == ("r-1", "DONE_x")
    assert back.summary == FORGED_SUMMARY.replace("\r", "\n")
    assert "\n" not in back.skill + back.note and "forged-3" in back.skill
    # every line of the stored summary is quoted: no editor or parser sees a marker
    text = home.inbox.read_text(encoding="utf-8")
    assert text.count("\n<!-- sagaflow:entry ") == 2 and text.count("\n<!-- sagaflow:end -->") == 2


def test_random_damage_never_raises_and_never_blocks_an_append(home: Home) -> None:
    rng = random.Random(9)
    pieces = [d.data for d in corpus(big=3_000)] + [
        block(entry("ok")), b"\n", b"\r\n", b"<!-- sagaflow:end -->", b"> quoted\n", b"\x00",
        b"<!-- sagaflow:entry run=z status=DONE state=unread -->\n", b"### DONE \xc2\xb7 s \xc2\xb7 t\n",
    ]
    home.root.mkdir(parents=True)
    for round_ in range(150):
        data = b"".join(rng.choice(pieces)[: rng.randint(0, 400)] for _ in range(rng.randint(0, 12)))
        home.inbox.write_bytes(data)
        known, _ = inbox.read(home.inbox)
        new = entry(f"new-{round_}", f"summary {round_}")
        assert inbox.append(home.inbox, new)
        entries, _ = inbox.read(home.inbox)
        assert entries[-1] == new and entries[:-1] == known


def test_garbled_region_is_reported_once() -> None:
    cut = block(entry("cut", "\n".join(f"line {i}" for i in range(50)))).decode()[:-40]
    text = HEADER + cut + "\n\n  \nmore junk\n" + block(entry("r-2")).decode() + "tail junk"
    entries, problems = parse(text)
    assert entries == [entry("r-2")]
    first = HEADER.count("\n") + 1
    assert problems[0].line == first and problems[0].text.startswith("<!-- sagaflow:entry run=cut")
    assert problems[0].last == first + cut.count("\n") + 3  # through "more junk"
    assert problems[1] == Problem(text.count("\n") + 1, "tail junk")
    assert len(problems) == 2


def test_bom_crlf_file_from_an_editor_parses_clean() -> None:
    text = "\ufeff" + (HEADER + block(entry("r-1")).decode()).replace("\n", "\r\n")
    assert parse(text) == ([entry("r-1")], [])


def test_a_ten_megabyte_line_is_one_short_problem(home: Home) -> None:
    home.root.mkdir(parents=True)
    home.inbox.write_bytes(b"\xff" * 10_000_000)
    assert inbox.append(home.inbox, entry("r-1"))
    entries, problems = inbox.read(home.inbox)
    assert entries == [entry("r-1")]
    assert problems == [Problem(1, "\ufffd" * 199 + "…")]


def test_unreadable_inbox_is_a_retryable_error(home: Home) -> None:
    home.inbox.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(InboxError) as raised:
        inbox.read(home.inbox)
    assert raised.value.retryable and str(home.inbox) in raised.value.message


def test_dismiss_preserves_invalid_bytes(home: Home) -> None:
    home.root.mkdir(parents=True)
    raw = HEADER.encode() + block(entry("r-1", "caf\xe9")).replace("café".encode(), b"caf\xe9")
    home.inbox.write_bytes(raw + b"\xff junk\n")
    (only,), _ = inbox.read(home.inbox)
    assert only.summary == "caf\ufffd"
    assert inbox.dismiss(home.inbox, None) == ["r-1"]
    assert home.inbox.read_bytes() == raw.replace(b"state=unread", b"state=read") + b"\xff junk\n"
    assert TS in only.timestamp
