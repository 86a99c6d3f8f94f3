"""INBOX.md: one markdown file of findings, safe under concurrent writers.

Each entry is readable as markdown and parseable back::

    <!-- sagaflow:entry run=hello-world-20261121-101500-k3f9 status=DONE state=unread -->
    ### DONE · hello-world · 2026-11-21T10:15:00+00:00
    run `hello-world-20261121-101500-k3f9`

    > hello, alice
    <!-- sagaflow:end -->

Summary lines are quoted with ``> `` so any text (blank lines, markdown, even
our own markers) survives. Every change happens under an exclusive
``flock`` on ``INBOX.md.lock``; appends are idempotent per (run, status), and
dismissals rewrite the file atomically.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sagaflow.errors import InboxError
from sagaflow.locks import exclusive
from sagaflow.timestamps import now_iso

HEADER = "# sagaflow inbox\n\n"
_START = re.compile(
    r"^<!-- sagaflow:entry run=(?P<run>\S+) status=(?P<status>\S+)(?: key=(?P<key>\S+))? "
    r"state=(?P<state>unread|read) -->$"
)
_TITLE = re.compile(r"^### (?P<status>.+?) · (?P<skill>.+?) · (?P<ts>\S+)$")
_END = "<!-- sagaflow:end -->"


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
    """A line of INBOX.md that is not part of a well-formed entry."""

    line: int
    text: str


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


def _clean_token(value: str) -> str:
    return re.sub(r"\s+", "_", value.strip()) or "-"


def render_entry(entry: Entry) -> str:
    """The markdown block for one entry."""
    state = "unread" if entry.unread else "read"
    key = f" key={_clean_token(entry.key)}" if entry.key else ""
    lines = [
        f"<!-- sagaflow:entry run={_clean_token(entry.run_id)} "
        f"status={_clean_token(entry.status)}{key} state={state} -->",
        f"### {entry.status.strip() or '-'} · {entry.skill.strip() or '-'} · {entry.timestamp}",
        f"run `{entry.run_id}`" + (f" · {entry.note}" if entry.note else ""),
        "",
    ]
    summary = entry.summary.rstrip("\n") or "(no summary)"
    lines += [("> " + line) if line else ">" for line in summary.split("\n")]
    lines.append(_END)
    return "\n".join(lines) + "\n\n"


def parse(text: str) -> tuple[list[Entry], list[Problem]]:
    """Parse INBOX.md text into entries, reporting lines that do not fit."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _START.match(line)
        if not match:
            if line.strip() and line.strip() != HEADER.strip():
                problems.append(Problem(i + 1, line))
            i += 1
            continue
        start = i
        title = _TITLE.match(lines[i + 1]) if i + 1 < len(lines) else None
        body: list[str] = []
        note = ""
        j = i + 2
        if j < len(lines) and lines[j].startswith("run `"):
            _, _, rest = lines[j].partition("` · ")
            note = rest
            j += 1
        ok = title is not None
        while j < len(lines) and lines[j] != _END:
            raw = lines[j]
            if raw.startswith("> "):
                body.append(raw[2:])
            elif raw == ">":
                body.append("")
            elif raw.strip() == "" and not body:
                pass
            elif _START.match(raw):
                ok = False
                break
            else:
                ok = False
                break
            j += 1
        if ok and title is not None and j < len(lines):
            entries.append(
                Entry(
                    run_id=match["run"],
                    status=match["status"],
                    skill=title["skill"],
                    summary="\n".join(body),
                    timestamp=title["ts"],
                    unread=match["state"] == "unread",
                    note=note,
                    key=match["key"] or "",
                )
            )
            i = j + 1
        else:
            problems.append(Problem(start + 1, line))
            i = start + 1
    return entries, problems


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(exclusive(path.with_name(path.name + ".lock")))
        except OSError as exc:
            raise InboxError(
                f"Cannot open the inbox lock next to {path}: {exc.strerror}. "
                "Check that the sagaflow home is writable."
            ) from exc
        yield


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InboxError(f"Cannot read {path}: {exc}. Fix or move the file.") from exc


def read(path: Path) -> tuple[list[Entry], list[Problem]]:
    """All entries (read and unread) and any malformed lines."""
    return parse(_read(path))


def append(path: Path, entry: Entry) -> bool:
    """Append ``entry`` unless one with the same run, status and key exists.

    Returns:
        True if written, False if it was already there (an activity retry).
    """
    entry = replace(entry, timestamp=normalize_timestamp(entry.timestamp))
    with _locked(path):
        text = _read(path)
        run_token, status_token = _clean_token(entry.run_id), _clean_token(entry.status)
        key_token = _clean_token(entry.key) if entry.key else ""
        # An entry's marker line holds exactly this text; only when it occurs is the
        # (slow, Python-level) parse needed to tell a real entry from quoted text.
        key = f" key={key_token}" if key_token else ""
        marker = f"<!-- sagaflow:entry run={run_token} status={status_token}{key} state="
        if marker in text and any(
            e.run_id == run_token and e.status == status_token and e.key == key_token
            for e in parse(text)[0]
        ):
            return False
        try:
            with open(path, "a", encoding="utf-8") as fh:
                if fh.tell() == 0:
                    fh.write(HEADER)
                fh.write(render_entry(entry))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise InboxError(
                f"Cannot write {path}: {exc.strerror}. Check that the sagaflow home is writable.",
                retryable=True,
            ) from exc
        return True


def has_entry(path: Path, run_id: str) -> bool:
    """Whether any entry exists for ``run_id``."""
    entries, _ = read(path)
    return any(e.run_id == run_id for e in entries)


def dismiss(path: Path, run_ids: list[str] | None) -> list[str]:
    """Mark entries read: those of ``run_ids``, or all when None.

    Returns:
        The run ids whose entries were marked read.

    Raises:
        InboxError: if a given run id has no entry (nothing is changed then).
    """
    with _locked(path):
        text = _read(path)
        entries, _ = parse(text)
        known = {e.run_id for e in entries}
        if run_ids is not None:
            missing = [r for r in run_ids if r not in known]
            if missing:
                raise InboxError(
                    f"No inbox entry for {', '.join(missing)}; "
                    "run 'sagaflow inbox --all' to see the run ids."
                )
        targets = known if run_ids is None else set(run_ids)
        changed = sorted({e.run_id for e in entries if e.unread and e.run_id in targets})
        if not changed:
            return []
        out_lines = []
        for line in text.split("\n"):
            m = _START.match(line)
            if m and m["run"] in targets and m["state"] == "unread":
                line = line.replace("state=unread -->", "state=read -->")
            out_lines.append(line)
        _rewrite(path, out_lines)
        return changed


def retire(path: Path, run_id: str, status: str, key: str) -> bool:
    """Mark the one entry (run, status, key) read, e.g. an answered approval.

    Returns:
        True if an unread entry was marked read.
    """
    run_token, status_token, key_token = _clean_token(run_id), _clean_token(status), _clean_token(key)
    with _locked(path):
        text = _read(path)
        out_lines = []
        changed = False
        for line in text.split("\n"):
            m = _START.match(line)
            if (
                m and m["run"] == run_token and m["status"] == status_token
                and (m["key"] or "") == key_token and m["state"] == "unread"
            ):
                line = line.replace("state=unread -->", "state=read -->")
                changed = True
            out_lines.append(line)
        if changed:
            _rewrite(path, out_lines)
        return changed


def _rewrite(path: Path, lines: list[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise InboxError(f"Cannot rewrite {path}: {exc.strerror}.") from exc
