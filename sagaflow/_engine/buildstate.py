"""One build worker's files: liveness lock, recorded state and lease.

``<home>/worker/builds/<build>/`` holds ``worker.lock`` (an exclusive ``flock``
held by the live worker process, with its pid: Temporal's poller list remembers
dead workers for minutes), ``state.json`` (pid, fingerprint, what it loaded) and
``used`` (touched by every command that needs the worker, see :mod:`.idle`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from sagaflow.config import Settings
from sagaflow.errors import WorkerError
from sagaflow.paths import Home
from sagaflow.timestamps import now_iso


def build_dir(home: Home, build: str) -> Path:
    """``<home>/worker/builds/<build>``: that build's worker's lock and state."""
    return home.worker / "builds" / build


def lock_path(home: Home, build: str) -> Path:
    return build_dir(home, build) / "worker.lock"


def state_path(home: Home, build: str) -> Path:
    return build_dir(home, build) / "state.json"


def lease_path(home: Home, build: str) -> Path:
    """Touched by every command that needs ``build``'s worker: it keeps the worker from
    retiring between being ensured and the run starting (see :mod:`.idle`)."""
    return build_dir(home, build) / "used"


def touch_lease(home: Home, build: str) -> None:
    with contextlib.suppress(OSError):
        build_dir(home, build).mkdir(parents=True, exist_ok=True)
        lease_path(home, build).touch()


def seconds_since_used(home: Home, build: str) -> float:
    """Seconds since a command last needed ``build``'s worker (inf: never)."""
    try:
        return max(0.0, time.time() - lease_path(home, build).stat().st_mtime)
    except OSError:
        return float("inf")


def acquire_lock(home: Home, build: str) -> int:
    """Take ``build``'s liveness lock for this process (fails if its worker holds it)."""
    home.ensure(home.worker, home.logs)
    build_dir(home, build).mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(home, build), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = live_pid(home, build)
        raise WorkerError(
            f"Another worker (pid {pid}) already serves build {build} of {home.root}; "
            "stop it with 'sagaflow worker stop' first."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def live_pid(home: Home, build: str) -> int | None:
    """Pid of ``build``'s worker holding its lock, or None if it is not alive."""
    try:
        fd = os.open(lock_path(home, build), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raw = os.pread(fd, 32, 0).decode(errors="ignore").strip()
        os.close(fd)
        return int(raw) if raw.isdigit() else -1
    os.close(fd)
    return None


def worker_builds(home: Home) -> list[str]:
    """Builds that had a worker in this home (alive or not), sorted."""
    with contextlib.suppress(OSError):
        return sorted(p.name for p in (home.worker / "builds").iterdir() if p.is_dir())
    return []


def live_workers(home: Home) -> dict[str, int]:
    """Build -> pid of every live build worker of this home."""
    found = {}
    for build in worker_builds(home):
        pid = live_pid(home, build)
        if pid is not None:
            found[build] = pid
    return found


def write_state(
    home: Home, build: str, fingerprint: str, settings: Settings, skills: list[Any]
) -> None:
    data = {
        "pid": os.getpid(),
        "build": build,
        "fingerprint": fingerprint,
        "task_queue": settings.task_queue,
        "address": settings.address,
        "namespace": settings.namespace,
        "started_at": now_iso(),
        "skills": skills,
    }
    path = state_path(home, build)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_state(home: Home, build: str) -> dict[str, Any] | None:
    try:
        data = json.loads(state_path(home, build).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
