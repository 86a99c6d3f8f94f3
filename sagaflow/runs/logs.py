"""The worker log lines of one run (``sagaflow logs``).

Workers log to ``<home>/logs/*.log`` (``worker.log``, pool workers ``worker-*.log``)
in the format ``2025-01-31 12:00:00,123 LEVEL logger: message``. Temporal's
activity and workflow loggers append a context dict naming the ``workflow_id``
(the run id), so a record belongs to a run when it mentions the id as a whole
word. A record is a timestamped line plus the lines after it that carry no
timestamp (tracebacks, stray prints). Records of all files merge in time order.

Each record: ``{"time", "level", "logger", "message", "text", "file"}`` where
``message`` is the first line's message and ``text`` the whole record.
"""

from __future__ import annotations

import ast
import heapq
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sagaflow.config import Settings
from sagaflow.paths import Home
from sagaflow.runrecord import check_run_id

_HEAD = re.compile(
    # a build worker's lines name their build after the logger: "sagaflow.worker [<build>]: "
    r"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[,.]\d{3}) (?P<level>[A-Z]+) (?P<logger>[^:\s]+)"
    r"(?: \[[0-9a-f]+\])?: "
    r"(?P<message>.*)$"
)
_CONTEXT = re.compile(r" \((\{'[^()]*\})\)$")


def _matcher(run_id: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(run_id)}(?![\w.-])")


def parse_records(text: str, name: str) -> Iterator[dict[str, Any]]:
    """Split log text into records (continuation lines join the record above)."""
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        head = _HEAD.match(line)
        if head:
            if current is not None:
                yield current
            current = {**head.groupdict(), "text": line, "file": name}
        elif current is not None:
            current["text"] += "\n" + line
        elif line.strip():
            current = {"time": "", "level": "", "logger": "", "message": line, "text": line, "file": name}
    if current is not None:
        yield current


def _log_files(home: Home) -> list[Path]:
    try:
        return sorted(p for p in home.logs.glob("*.log") if p.is_file())
    except OSError:
        return []


def records_for(home: Home, run_id: str) -> list[dict[str, Any]]:
    """Every log record that mentions ``run_id``, from all log files, oldest first."""
    match = _matcher(run_id)
    per_file: list[list[dict[str, Any]]] = []
    for path in _log_files(home):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if run_id not in text:
            continue
        per_file.append([r for r in parse_records(text, path.name) if match.search(r["text"])])
    return list(heapq.merge(*per_file, key=lambda r: r["time"]))


async def _exists(settings: Settings, run_id: str) -> None:
    from sagaflow._engine.client import connect
    from sagaflow.runs.start import describe

    client = await connect(settings)
    await describe(client.get_workflow_handle(run_id))


def run_log_records(home: Home, settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """The run's log records; asks Temporal whether the run exists only when none are found.

    Raises:
        RunNotFoundError: when no log line mentions the run and Temporal does not know it.
        UsageError: ``run_id`` is not a usable id.
    """
    check_run_id(run_id)
    records = records_for(home, run_id)
    if not records:
        import asyncio

        asyncio.run(_exists(settings, run_id))
    return records


def compact(record: dict[str, Any]) -> str:
    """The record's text with Temporal's context dict shortened to ``[step 3 spawn_subagent #2]``."""
    first, _, rest = str(record["text"]).partition("\n")
    found = _CONTEXT.search(first)
    if found:
        try:
            ctx = ast.literal_eval(found.group(1))
        except (ValueError, SyntaxError):
            ctx = None
        if isinstance(ctx, dict):
            if "activity_id" in ctx:
                tag = f"[step {ctx['activity_id']} {ctx.get('activity_type', '')} #{ctx.get('attempt', 1)}]"
            else:
                tag = f"[workflow {ctx.get('workflow_type', '')}]"
            first = first[: found.start()] + " " + tag
    return first + ("\n" + rest if rest else "")


def follow_records(
    home: Home, run_id: str, on_record: Callable[[dict[str, Any]], None], interval: float = 0.5
) -> None:
    """Report the run's records as they are appended to any log file (until interrupted).

    Starts at the current end of each file: call :func:`records_for` first for the past.
    """
    match = _matcher(run_id)
    offsets = {p: p.stat().st_size for p in _log_files(home)}
    while True:
        time.sleep(interval)
        for path in _log_files(home):
            start = offsets.get(path, 0)
            try:
                if path.stat().st_size < start:  # truncated or replaced
                    start = 0
                with path.open("rb") as fh:
                    fh.seek(start)
                    chunk = fh.read()
            except OSError:
                continue
            end = chunk.rfind(b"\n") + 1
            if end == 0:
                continue
            offsets[path] = start + end
            text = chunk[:end].decode("utf-8", errors="replace")
            for record in parse_records(text, path.name):
                if match.search(record["text"]):
                    on_record(record)
