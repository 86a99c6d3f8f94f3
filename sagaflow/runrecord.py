"""Per-run records: ids and ``runs/<run_id>/run.json``.

The record is what this home knows locally about a run it launched: its skill,
directory, arguments and transport, for attaching to it again (``launch --id``)
and for the CLI. Activities do not read it: what they need travels in the run's
memo (:class:`sagaflow._engine.meta.RunConfig`).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sagaflow.errors import HomeError
from sagaflow.paths import RUN_ID_MAX, Home, check_name

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_run_id(skill: str, now: datetime | None = None) -> str:
    """``<skill>-<YYYYMMDD-HHMMSS>-<6 random chars>``: readable, and unique in practice.

    ``prepare`` additionally claims the run directory exclusively, so two
    launches in one home can never share an id.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    # 32 letters divide 256, so each random byte picks one uniformly (the secrets module
    # would import random, hmac and base64: about 1.5 ms of every launch)
    suffix = "".join(_ID_ALPHABET[b % 32] for b in os.urandom(6))
    return f"{skill}-{stamp}-{suffix}"


def check_run_id(run_id: str) -> str:
    """Reject ids that would be unsafe as directory names or Temporal ids.

    Raises:
        UsageError: see :func:`sagaflow.paths.check_name` (at most 200 characters).
    """
    return check_name(run_id, "Run id", RUN_ID_MAX)


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
    """Write ``run.json`` atomically: a temporary file of this writer's own (two
    launches of one id never share one), then a rename over the old record."""
    path = record_path(home, record.run_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL on a random name is what tempfile.mkstemp does, without importing
        # tempfile (and the shutil, random... it imports) on every launch
        tmp = path.parent / f".run.json.{os.getpid()}.{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(record.to_dict(), indent=2))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
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
