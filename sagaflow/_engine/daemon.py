"""The detached worker daemon: spawn, liveness, replacement, stop.

Liveness is an exclusive ``flock`` on ``<home>/worker/worker.lock`` held by the
live worker process (Temporal's poller list remembers dead workers for
minutes). ``state.json`` records the worker's pid and the fingerprint of what
it loaded; a launch whose fingerprint differs (skills edited, API key or target
changed) replaces the worker gracefully. Only pids recorded in this home are
ever signalled, and only while they name the same process (:mod:`sagaflow.procs`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sagaflow
from sagaflow import procs
from sagaflow.config import Settings
from sagaflow.errors import WorkerError
from sagaflow.locks import exclusive
from sagaflow.paths import PRIVATE_UMASK, Home
from sagaflow.timestamps import now_iso

if TYPE_CHECKING:
    from sagaflow.skills.discovery import SkillSource

FINGERPRINT_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")


def lock_path(home: Home) -> Path:
    return home.worker / "worker.lock"


def state_path(home: Home) -> Path:
    return home.worker / "state.json"


def acquire_lock(home: Home) -> int:
    """Take the liveness lock for this process (fails if a worker holds it)."""
    home.ensure(home.worker, home.logs)
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = live_pid(home)
        raise WorkerError(
            f"Another worker (pid {pid}) already serves {home.root}; "
            "stop it with 'sagaflow worker stop' first."
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def live_pid(home: Home) -> int | None:
    """Pid of the worker holding the lock, or None if no worker is alive."""
    try:
        fd = os.open(lock_path(home), os.O_RDONLY)
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


def _code_stamp() -> str:
    """Size and mtime of sagaflow's own modules, so an upgraded install replaces the worker.

    Walked with ``os.walk`` and plain strings: a ``Path.rglob`` of the same ~100 files
    took about 1.2 ms of every launch here, this about 0.3 ms.
    """
    root = os.path.dirname(sagaflow.__file__)
    stamps = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(n for n in filenames if n.endswith(".py")):
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.stat(path)
                stamps.append(f"{path[len(root) + 1:]}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(stamps)


def expected_fingerprint(settings: Settings, skills_fingerprint: str) -> str:
    """What a worker serving ``settings`` with these skills (and this sagaflow) would record."""
    digest = hashlib.sha256()
    parts = [
        sagaflow.__version__, _code_stamp(), skills_fingerprint, settings.address, settings.namespace,
        settings.task_queue, settings.profile or "",
        *(os.environ.get(name, "") for name in FINGERPRINT_ENV),
    ]
    digest.update("\0".join(parts).encode())
    return digest.hexdigest()[:16]


def write_state(home: Home, fingerprint: str, settings: Settings, skills: list[Any]) -> None:
    data = {
        "pid": os.getpid(),
        "fingerprint": fingerprint,
        "task_queue": settings.task_queue,
        "address": settings.address,
        "namespace": settings.namespace,
        "started_at": now_iso(),
        "skills": skills,
    }
    tmp = state_path(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, state_path(home))


def read_state(home: Home) -> dict[str, Any] | None:
    try:
        data = json.loads(state_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _spawn_lock(home: Home) -> contextlib.AbstractContextManager[None]:
    home.ensure(home.worker, home.logs)
    return exclusive(home.worker / "spawn.lock")


def _log_tail(home: Home) -> str:
    try:
        lines = home.worker_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    meaningful = [ln for ln in lines if ln.strip() and not ln.startswith(("Traceback", "  "))]
    return meaningful[-1][:300] if meaningful else "no log"


def _worker_env(home: Home, settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["SAGAFLOW_HOME"] = str(home.root)
    env["SAGAFLOW_TASK_QUEUE"] = settings.task_queue
    # The worker resolves its target as this process does (client.resolve): it reads the
    # same config.yaml and envconfig files, so only explicit choices are handed down.
    if settings.address_from_user:
        env["TEMPORAL_ADDRESS"] = settings.address
    if settings.namespace_from_user:
        env["TEMPORAL_NAMESPACE"] = settings.namespace
    if settings.profile:
        env["TEMPORAL_PROFILE"] = settings.profile
    env.pop("SAGAFLOW_ROOT", None)
    env["NO_COLOR"] = "1"  # libraries writing to worker.log: no colour codes
    return env


def spawn(home: Home, settings: Settings, timeout: float = 60.0) -> int:
    """Start ``sagaflow worker run`` detached and wait until it holds the lock."""
    home.ensure(home.worker, home.logs)
    with open(home.worker_log, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sagaflow", "worker", "run"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=_worker_env(home, settings), close_fds=True,
            umask=PRIVATE_UMASK,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WorkerError(
                f"The worker exited at start ({_log_tail(home)}); see {home.worker_log}."
            )
        state = read_state(home)
        if live_pid(home) == proc.pid and state and state.get("pid") == proc.pid:
            return proc.pid
        time.sleep(0.03)
    procs.kill_group(proc)  # the session it started, by its id: no orphans
    raise WorkerError(f"The worker did not start within {timeout:.0f}s; see {home.worker_log}.")


def ensure_worker(home: Home, settings: Settings, skills_fingerprint: str) -> tuple[int, str]:
    """Make sure a current worker serves this home.

    Returns:
        ``(pid, action)`` where action is ``running``, ``started`` or ``replaced``.
    """
    wanted = expected_fingerprint(settings, skills_fingerprint)
    with _spawn_lock(home):
        pid = live_pid(home)
        state = read_state(home)
        if pid is not None and state and state.get("fingerprint") == wanted:
            return pid, "running"
        action = "started"
        if pid is not None:
            action = "replaced"
            _request_stop(home, pid, wait_for_exit=False)
        return spawn(home, settings), action


def describe_action(home: Home, pid: int, action: str) -> str:
    """The line saying what :func:`ensure_worker` did: ``worker started (pid 42); log: ...``."""
    return f"worker {action} (pid {pid}); log: {home.worker_log}"


def serve(
    home: Home, settings: Settings, sources: Sequence[SkillSource] | None = None,
    notice: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """Make sure a current worker serves this home: every "ensure a worker" goes through here.

    Args:
        sources: The skills it must load (default: :func:`~sagaflow.skills.discovery.discover`
            from the working directory); their fingerprint decides whether a live worker
            is current (see :func:`ensure_worker`).
        notice: Told :func:`describe_action`'s line when a worker was started or replaced.

    Returns:
        ``(pid, action)`` as :func:`ensure_worker`.

    Raises:
        WorkerError: The worker exited at start or did not start in time.
        HomeError: The home's worker or log directory cannot be created.
    """
    from sagaflow.skills.discovery import discover, fingerprint

    if sources is None:
        sources, _ = discover()
    home.ensure(home.runs, home.worker, home.logs)
    pid, action = ensure_worker(home, settings, fingerprint(sources))
    if action != "running" and notice is not None:
        notice(describe_action(home, pid, action))
    return pid, action


def _request_stop(home: Home, pid: int, *, wait_for_exit: bool, timeout: float = 30.0) -> None:
    """SIGTERM the lock holder ``pid``; wait until the lock is free (and it exited, if asked).

    The process is identified once (psutil, create time): a pid reused meanwhile is
    neither waited for nor signalled.
    """
    proc = procs.find(pid)  # None: already gone, or the holder's pid is unknown (-1)
    if proc is not None:
        procs.send(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        released = live_pid(home) is None
        if released and (not wait_for_exit or proc is None or not procs.running(proc)):
            return
        time.sleep(0.05)
    if proc is not None and wait_for_exit:
        procs.send(proc, signal.SIGKILL)
        return
    raise WorkerError(
        f"The worker (pid {pid}) did not stop within {timeout:.0f}s; see {home.worker_log}."
    )


def stop(home: Home, timeout: float = 30.0) -> int | None:
    """Stop this home's worker gracefully; returns its pid, or None if none ran."""
    pid = live_pid(home)
    if pid is None:
        return None
    _request_stop(home, pid, wait_for_exit=True, timeout=timeout)
    return pid


def status(home: Home) -> dict[str, Any]:
    """Liveness and what the live worker loaded."""
    pid = live_pid(home)
    state = read_state(home) or {}
    return {
        "alive": pid is not None,
        "pid": pid,
        "task_queue": state.get("task_queue"),
        "address": state.get("address"),
        "started_at": state.get("started_at") if pid is not None else None,
        "skills": state.get("skills", []) if pid is not None else [],
        "log": str(home.worker_log),
    }
