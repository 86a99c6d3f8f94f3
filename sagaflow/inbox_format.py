"""The text of INBOX.md: one entry rendered, and the whole file parsed back.

Each entry is readable as markdown and parseable back::

    <!-- sagaflow:entry run=hello-world-20261121-101500-k3f9 status=DONE state=unread -->
    ### DONE · hello-world · 2026-11-21T10:15:00+00:00
    run `hello-world-20261121-101500-k3f9`

    > hello, alice
    <!-- sagaflow:end -->

What :func:`render_entry` guarantees, whatever the entry holds (model text
included): the marker, title and ``run`` lines are each one line (line breaks
and other control characters in those fields become spaces), and every line of
the summary starts with ``> `` (``\\r\\n`` and lone ``\\r`` count as line breaks).
So no text inside an entry can ever start a line that looks like a marker: an
entry forged inside a summary stays part of that summary.

What :func:`parse` guarantees, whatever the file holds (hand edits, a truncated
write, NUL bytes, text decoded with replacement characters, CRLF line ends): it
never raises; every well-formed entry is returned; each garbled region (lines
that are not part of an entry, blank lines between them included) is reported
once as a :class:`Problem` and skipped. A body line someone un-quoted by hand is
kept as a summary line rather than losing the entry.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sagaflow.safetext import clip
from sagaflow.timestamps import now_iso

HEADER = "# sagaflow inbox\n\n"
START_PREFIX = "<!-- sagaflow:entry "
_START = re.compile(
    r"^<!-- sagaflow:entry run=(?P<run>\S+) status=(?P<status>\S+)(?: key=(?P<key>\S+))? "
    r"state=(?P<state>unread|read) -->$"
)
_TITLE = re.compile(r"^### (?P<status>.+?) · (?P<skill>.+?) · (?P<ts>\S+)$")
END = "<!-- sagaflow:end -->"
#: characters that must not appear in a one-line field: C0, DEL, C1 and Unicode line breaks
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
PROBLEM_TEXT_LIMIT = 200
#: statuses of entries that ask for an action; they are retired (marked read) once the
#: run stops waiting, whatever ended the wait
WAITING_STATUSES = frozenset({"NEEDS_APPROVAL", "QUESTION"})
#: separates an entry's own key from the Temporal execution that wrote it (``publish-1@<tail>``)
EXECUTION_SEP = "@"
#: how many trailing characters of a Temporal run id name its execution in a key (UUIDv7:
#: the tail is random)
EXECUTION_TAIL = 12
_TAIL = re.compile(f"[0-9a-f]{{{EXECUTION_TAIL}}}")


@dataclass(frozen=True)
class Entry:
    """One finding in the inbox."""

    run_id: str
    status: str
    skill: str
    summary: str
    timestamp: str
    unread: bool = True
    note: str = ""
    key: str = ""  # tells apart entries of one run and status (gates, retried attempts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """A garbled region of INBOX.md: lines that are not part of a well-formed entry.

    Attributes:
        line: Its first line (1-based).
        text: That line, cut to :data:`PROBLEM_TEXT_LIMIT` characters.
        size: How many lines the region spans.
    """

    line: int
    text: str
    size: int = 1

    @property
    def last(self) -> int:
        """The region's last line (1-based)."""
        return self.line + self.size - 1


def normalize_timestamp(value: str | None) -> str:
    """ISO-8601 with a timezone; naive input is taken as local time."""
    if not value:
        return now_iso()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return now_iso()
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.isoformat(timespec="seconds")


def one_line(value: str) -> str:
    """``value`` with line breaks and control characters as single spaces, trimmed."""
    return _BREAKS.sub(" ", value).strip()


def token(value: str) -> str:
    """``value`` as a marker token: no whitespace or control characters (``-`` if empty)."""
    return re.sub(r"\s+", "_", one_line(value)) or "-"


def execution_tail(temporal_run_id: str) -> str:
    """The part of a Temporal run id an entry key carries (its last 12 characters)."""
    return token(temporal_run_id)[-EXECUTION_TAIL:]


def execution_key(key: str, temporal_run_id: str) -> str:
    """``key`` tied to the execution ``temporal_run_id``: ``key@tail``, or ``tail`` alone."""
    if not temporal_run_id:
        return key
    tail = execution_tail(temporal_run_id)
    return f"{key}{EXECUTION_SEP}{tail}" if key else tail


def execution_of(key: str) -> str:
    """The execution tail an entry key names, or ``""`` when it names none.

    Keys written before entries named their execution (``publish-1``, an empty
    DONE key) name none; a bare tail is the key of a run's DONE/FAILED/CANCELLED.
    """
    head, sep, tail = key.rpartition(EXECUTION_SEP)
    if sep and head:
        return tail
    return key if _TAIL.fullmatch(key) else ""


def marker_prefix(run_id: str, status: str, key: str = "") -> str:
    """The start of the marker line of the entry (run, status, key), up to ``state=``."""
    keyed = f" key={token(key)}" if key else ""
    return f"{START_PREFIX}run={token(run_id)} status={token(status)}{keyed} state="


def render_entry(entry: Entry) -> str:
    """The markdown block for one entry (see the module docstring for its guarantees)."""
    state = "unread" if entry.unread else "read"
    note = one_line(entry.note)
    lines = [
        marker_prefix(entry.run_id, entry.status, entry.key) + f"{state} -->",
        f"### {one_line(entry.status) or '-'} · {one_line(entry.skill) or '-'} · "
        f"{token(entry.timestamp)}",
        f"run `{one_line(entry.run_id)}`" + (f" · {note}" if note else ""),
        "",
    ]
    summary = entry.summary.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    lines += [("> " + line) if line else ">" for line in (summary or "(no summary)").split("\n")]
    lines.append(END)
    return "\n".join(lines) + "\n\n"


def _is_start(line: str) -> bool:
    return line.startswith(START_PREFIX) and _START.match(line) is not None


def _entry_at(lines: list[str], i: int, start: re.Match[str]) -> tuple[Entry | None, int]:
    """The entry whose marker is ``lines[i]`` and the index after its end line, or
    (None, 0) when it is not well formed."""
    title = _TITLE.match(lines[i + 1]) if i + 1 < len(lines) else None
    if title is None:
        return None, 0
    j, note = i + 2, ""
    if j < len(lines) and lines[j].startswith("run `"):
        note = lines[j].partition("` · ")[2]
        j += 1
    body: list[str] = []
    while j < len(lines) and lines[j] != END:
        raw = lines[j]
        if _is_start(raw):
            return None, 0  # the next entry begins: this one lost its end
        if raw.startswith("> "):
            body.append(raw[2:])
        elif raw == ">":
            body.append("")
        elif body or raw.strip():
            body.append(raw)  # un-quoted by hand: keep it rather than lose the entry
        j += 1
    if j >= len(lines):
        return None, 0
    entry = Entry(
        run_id=start["run"], status=start["status"], skill=title["skill"],
        summary="\n".join(body), timestamp=title["ts"], unread=start["state"] == "unread",
        note=note, key=start["key"] or "",
    )
    return entry, j + 1


def parse(text: str) -> tuple[list[Entry], list[Problem]]:
    """Parse INBOX.md text into entries and garbled regions (never raises)."""
    lines = [line[:-1] if line.endswith("\r") else line for line in text.lstrip("\ufeff").split("\n")]
    header = HEADER.strip()
    entries: list[Entry] = []
    problems: list[Problem] = []
    region: list[int] = []  # [first, last] line index of the open garbled region

    def flag(first: int, last: int) -> None:
        if region:
            region[1] = last
        else:
            region[:] = [first, last]

    def close() -> None:
        if region:
            first, last = region
            problems.append(Problem(first + 1, clip(lines[first], PROBLEM_TEXT_LIMIT), last - first + 1))
            region.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        start = _START.match(line) if line.startswith(START_PREFIX) else None
        if start is not None:
            entry, after = _entry_at(lines, i, start)
            if entry is not None:
                close()
                entries.append(entry)
                i = after
                continue
            # broken: everything up to the next marker line is one garbled region
            nxt = i + 1
            while nxt < len(lines) and not _is_start(lines[nxt]):
                nxt += 1
            last = nxt - 1
            while last > i and not lines[last].strip():
                last -= 1
            flag(i, last)
            i = nxt
            continue
        if line.strip() and line != header:
            flag(i, i)
        i += 1
    close()
    return entries, problems
