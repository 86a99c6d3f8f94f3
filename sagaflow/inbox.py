"""INBOX.md: one markdown file of findings that survives concurrent writers and hand edits.

The format, and what parsing guarantees, are in :mod:`sagaflow.inbox_format`.
What this store guarantees, whatever the file already holds (its last byte, its
encoding, garbage or half-written lines, NUL bytes):

* **Appends never glue or vanish.** Each append is one ``write`` at the end of
  the file, under an exclusive ``flock`` on ``INBOX.md.lock``, preceded by a
  newline when the file does not end with one, so the new entry starts on its
  own line with its own marker and parses back. Appends are idempotent per
  (run, status, key): an activity retry writes nothing.
* **Every execution reports.** An entry written by a Temporal execution carries
  that execution in its key (``retry``, ``--if-exists replace`` and a reset start
  new executions of one run id), so a run's second outcome never collapses into
  its first; from a run's second execution on, the entry's note says
  ``attempt N · Temporal run ID``. Entries are appended in the order they happen:
  readers show the newest first.
* **Reads never fail on content.** Bytes are decoded as UTF-8 with replacement
  characters (``U+FFFD``); each garbled region is reported once and skipped.
  Only an unreadable file (permissions, a directory in its place) raises
  :class:`~sagaflow.errors.InboxError`.
* **Dismissing changes only the markers.** ``dismiss`` and ``retire`` rewrite
  the file atomically (temporary file, ``fsync``, rename, same mode), flipping
  ``state=unread`` to ``state=read`` in marker lines and keeping every other
  byte, damaged ones included.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from sagaflow.errors import InboxError
from sagaflow.inbox_format import (
    HEADER,
    START_PREFIX,
    WAITING_STATUSES,
    Entry,
    Problem,
    execution_key,
    execution_of,
    execution_tail,
    marker_prefix,
    normalize_timestamp,
    parse,
    render_entry,
    token,
)
from sagaflow.locks import exclusive

__all__ = [
    "HEADER", "WAITING_STATUSES", "Entry", "Problem", "append", "attempt_note", "decode", "dismiss",
    "has_entry", "normalize_timestamp", "parse", "read", "render_entry", "retire", "retire_waiting",
]

_START_BYTES = START_PREFIX.encode()
_UNREAD, _READ = b"state=unread -->", b"state=read -->"
_MARKER = re.compile(
    r"^\ufeff?<!-- sagaflow:entry run=(?P<run>\S+) status=(?P<status>\S+)(?: key=(?P<key>\S+))? "
    r"state=unread -->\r?$"
)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(exclusive(path.with_name(path.name + ".lock")))
        except OSError as exc:
            raise InboxError(
                f"Cannot open the inbox lock next to {path}: {exc.strerror}. "
                "Check that the sagaflow home is writable.",
                retryable=True,
            ) from exc
        yield


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise InboxError(
            f"Cannot read {path}: {exc.strerror or exc}. Make it a readable file, or move it away.",
            retryable=True,
        ) from exc


def decode(data: bytes) -> str:
    """INBOX.md bytes as text: UTF-8, invalid bytes as U+FFFD (never raises)."""
    return data.decode("utf-8", errors="replace")


def read(path: Path) -> tuple[list[Entry], list[Problem]]:
    """All entries (read and unread) and the garbled regions, in file order.

    Raises:
        InboxError: only if the file exists but cannot be read (retryable).
    """
    return parse(decode(_read_bytes(path)))


def _exists(data: bytes, entry: Entry) -> bool:
    # An entry's marker line holds exactly this text; only when it occurs is the
    # (slow, Python-level) parse needed to tell a real entry from quoted text.
    if marker_prefix(entry.run_id, entry.status, entry.key).encode() not in data:
        return False
    run, status, key = token(entry.run_id), token(entry.status), token(entry.key) if entry.key else ""
    return any(
        e.run_id == run and e.status == status and e.key == key for e in parse(decode(data))[0]
    )


def _executions(data: bytes, run_id: str) -> list[str]:
    """The execution tails of ``run_id``'s entries, in order of first appearance."""
    if f"{START_PREFIX}run={token(run_id)} ".encode() not in data:
        return []
    seen: list[str] = []
    for found in parse(decode(data))[0]:
        tail = execution_of(found.key) if found.run_id == token(run_id) else ""
        if tail and tail not in seen:
            seen.append(tail)
    return seen


def attempt_note(attempt: int, temporal_run_id: str) -> str:
    """``attempt N · Temporal run ID`` for a run's second and later executions, else ``""``."""
    return f"attempt {attempt} · Temporal run {temporal_run_id}" if attempt > 1 else ""


def append(path: Path, entry: Entry, *, execution: str = "") -> bool:
    """Append ``entry`` unless one with the same run, status and key exists.

    Args:
        execution: The Temporal run id of the execution reporting (empty: none).
            The entry's key is tied to it (:func:`~sagaflow.inbox_format.execution_key`)
            and, from the run's second execution on, its note gains
            :func:`attempt_note` (counted from the run's entries already in the file).

    Returns:
        True if written, False if it was already there (an activity retry).

    Raises:
        InboxError: the file or its lock cannot be read or written (retryable).
    """
    entry = replace(entry, timestamp=normalize_timestamp(entry.timestamp),
                    key=execution_key(entry.key, execution))
    with _locked(path):
        data = _read_bytes(path)
        if _exists(data, entry):
            return False
        if execution:
            seen = _executions(data, entry.run_id)
            tail = execution_tail(execution)
            attempt = seen.index(tail) + 1 if tail in seen else len(seen) + 1
            extra = attempt_note(attempt, execution)
            if extra:
                entry = replace(entry, note=f"{entry.note} · {extra}" if entry.note else extra)
        lead = HEADER if not data else "" if data.endswith(b"\n") else "\n"
        block = (lead + render_entry(entry)).encode("utf-8", errors="replace")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(block)
                while view:  # one write in practice; a short write just continues
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise InboxError(
                f"Cannot write {path}: {exc.strerror}. Check that the sagaflow home is writable.",
                retryable=True,
            ) from exc
        return True


def has_entry(path: Path, run_id: str) -> bool:
    """Whether any entry exists for ``run_id``."""
    data = _read_bytes(path)
    if f"{START_PREFIX}run={token(run_id)} ".encode() not in data:
        return False
    return any(e.run_id == token(run_id) for e in parse(decode(data))[0])


def _mark_read(path: Path, data: bytes, pick: Callable[[re.Match[str]], bool]) -> bool:
    """Flip the unread markers ``pick`` accepts to read; True if the file changed."""
    lines = data.split(b"\n")
    changed = False
    for number, raw in enumerate(lines):
        if _START_BYTES not in raw[:32]:
            continue
        match = _MARKER.match(decode(raw))
        if match and pick(match):
            lines[number] = raw.replace(_UNREAD, _READ)
            changed = True
    if changed:
        _rewrite(path, b"\n".join(lines))
    return changed


def dismiss(path: Path, run_ids: list[str] | None) -> list[str]:
    """Mark entries read: those of ``run_ids``, or all when None.

    Returns:
        The run ids whose entries were marked read.

    Raises:
        InboxError: if a given run id has no entry (nothing is changed then), or
            the file cannot be read or rewritten.
    """
    with _locked(path):
        data = _read_bytes(path)
        entries, _ = parse(decode(data))
        known = {e.run_id for e in entries}
        if run_ids is not None:
            missing = [r for r in run_ids if token(r) not in known]
            if missing:
                raise InboxError(
                    f"No inbox entry for {', '.join(missing)}; "
                    "run 'sagaflow inbox --all' to see the run ids."
                )
        targets = known if run_ids is None else {token(r) for r in run_ids}
        changed = sorted({e.run_id for e in entries if e.unread and e.run_id in targets})
        if changed:
            _mark_read(path, data, lambda m: m["run"] in targets)
        return changed


def retire(path: Path, run_id: str, status: str, key: str, *, execution: str = "") -> bool:
    """Mark the one entry (run, status, key) read, e.g. an answered approval.

    With ``execution``, the key is the one :func:`append` wrote for that execution;
    an entry written under the bare ``key`` (before entries named their execution)
    is retired too.

    Returns:
        True if an unread entry was marked read.
    """
    run, kind = token(run_id), token(status)
    keys = {token(k) if k else "" for k in (key, execution_key(key, execution))}
    with _locked(path):
        return _mark_read(
            path, _read_bytes(path),
            lambda m: (m["run"], m["status"]) == (run, kind) and (m["key"] or "") in keys,
        )


def retire_waiting(path: Path, run_id: str, *, keep_execution: str = "") -> bool:
    """Mark read every unread entry of ``run_id`` that asks for an action
    (:data:`~sagaflow.inbox_format.WAITING_STATUSES`): the run no longer waits.

    Args:
        keep_execution: A Temporal run id whose own entries stay (the run's one open
            execution); entries naming no execution stay then too. Empty: retire all.

    Returns:
        True if any entry was marked read.

    Raises:
        InboxError: the file cannot be read or rewritten (retryable).
    """
    run = token(run_id)
    keep = execution_tail(keep_execution) if keep_execution else ""

    def pick(m: re.Match[str]) -> bool:
        if m["run"] != run or m["status"] not in WAITING_STATUSES:
            return False
        return not keep or execution_of(m["key"] or "") not in (keep, "")

    wanted = f"{START_PREFIX}run={run} ".encode()
    if wanted not in _read_bytes(path):  # the common case (no entry of the run): no lock
        return False
    with _locked(path):
        data = _read_bytes(path)
        if wanted not in data:
            return False
        return _mark_read(path, data, pick)


def _rewrite(path: Path, data: bytes) -> None:
    """Replace the file's content atomically, keeping its mode."""
    tmp = ""
    try:
        mode = path.stat().st_mode & 0o777
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise InboxError(
            f"Cannot rewrite {path}: {exc.strerror}. Check that the sagaflow home is writable.",
            retryable=True,
        ) from exc
