"""Per-run records: ids and ``runs/<run_id>/run.json``.

The record is what this home knows locally about a run it launched: its skill,
directory, arguments and transport, for attaching to it again (``launch --id``)
and for the CLI. Activities do not read it: what they need travels in the run's
memo (:class:`sagaflow._engine.meta.RunConfig`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sagaflow.errors import HomeError, UsageError
from sagaflow.paths import Home

_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def new_run_id(skill: str, now: datetime | None = None) -> str:
    """``<skill>-<YYYYMMDD-HHMMSS>-<6 random chars>``: readable, and unique in practice.

    ``prepare`` additionally claims the run directory exclusively, so two
    launches in one home can never share an id.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    suffix = "".join(secrets.choice(alphabet) for _ in range(6))
    return f"{skill}-{stamp}-{suffix}"


def check_run_id(run_id: str) -> str:
    """Reject ids that would be unsafe as directory names."""
    if not _ID_OK.match(run_id):
        raise UsageError(
            f"Run id {run_id!r} is not usable; use letters, digits, '.', '_' or '-' "
            "(at most 200 characters, not starting with punctuation)."
        )
    return run_id


@dataclass
class RunRecord:
    """What sagaflow remembers locally about a run it launched."""

    run_id: str
    skill: str
    skill_dir: str
    args: dict[str, str] = field(default_factory=dict)
    transport: str = "anthropic"
    task_queue: str = "sagaflow"
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_path(home: Home, run_id: str) -> Path:
    return home.run_dir(run_id) / "run.json"


def write_record(home: Home, record: RunRecord) -> None:
    """Write ``run.json`` atomically."""
    path = record_path(home, record.run_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.to_dict(), indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise HomeError(f"Cannot write {path}: {exc.strerror}; check the sagaflow home.") from exc


def read_record(home: Home, run_id: str) -> RunRecord | None:
    """The run's record, or None if this home did not launch it."""
    try:
        data = json.loads(record_path(home, run_id).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            return None
        known = RunRecord.__dataclass_fields__
        return RunRecord(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None
