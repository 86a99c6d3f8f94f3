"""The detached worker daemons, one per build: spawn, liveness, replacement, stop.

Each build (:mod:`sagaflow.skills.builds`) has its own worker process serving
its snapshot, side by side with the others. Liveness is an exclusive ``flock``
on ``<home>/worker/builds/<build>/worker.lock`` held by the live worker process
(Temporal's poller list remembers dead workers for minutes). ``state.json``
beside it records the worker's pid and fingerprint (build, sagaflow's code, API
key, target); a launch whose fingerprint differs replaces that build's worker
gracefully. Commands acting on a run bring back its build's worker from the
snapshot (:func:`revive`). Only pids recorded in this home are ever signalled,
and only while they name the same process (:mod:`sagaflow.procs`).
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
    from sagaflow.skills.builds import Build
    from sagaflow.skills.discovery import SkillSource

FINGERPRINT_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")


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


def _code_stamp() -> str:
    """Size and mtime of sagaflow's own modules, so an upgraded install replaces the worker."""
    root = Path(sagaflow.__file__).parent
    stamps = []
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            st = path.stat()
            stamps.append(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(stamps)


def expected_fingerprint(settings: Settings, build: str) -> str:
    """What a worker serving ``settings`` and ``build`` (with this sagaflow) would record."""
    digest = hashlib.sha256()
    parts = [
        sagaflow.__version__, _code_stamp(), build, settings.address, settings.namespace,
        settings.task_queue, settings.profile or "",
        *(os.environ.get(name, "") for name in FINGERPRINT_ENV),
    ]
    digest.update("\0".join(parts).encode())
    return digest.hexdigest()[:16]


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


def _spawn_lock(home: Home) -> contextlib.AbstractContextManager[None]:
    home.ensure(home.worker, home.logs)
    return exclusive(home.worker / "spawn.lock")


def _log_tail(home: Home, build: str) -> str:
    try:
        lines = home.worker_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    meaningful = [ln for ln in lines if ln.strip() and not ln.startswith(("Traceback", "  "))]
    own = [ln for ln in meaningful if f"[{build}]" in ln] or meaningful
    return own[-1][:300] if own else "no log"


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


def spawn(home: Home, settings: Settings, build: str, timeout: float = 60.0) -> int:
    """Start ``sagaflow worker run --build BUILD`` detached; wait until it serves.

    The worker writes its state only once Temporal knows its version on the task
    queue (see :func:`sagaflow._engine.worker.run_worker`), so a run pinned to
    ``build`` can be started as soon as this returns.

    Raises:
        WorkerError: It exited at start or did not start within ``timeout`` seconds.
    """
    home.ensure(home.worker, home.logs)
    build_dir(home, build).mkdir(parents=True, exist_ok=True)
    with open(home.worker_log, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sagaflow", "worker", "run", "--build", build],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=_worker_env(home, settings), close_fds=True,
            umask=PRIVATE_UMASK,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WorkerError(
                f"The worker of build {build} exited at start ({_log_tail(home, build)}); "
                f"see {home.worker_log}."
            )
        state = read_state(home, build)
        if live_pid(home, build) == proc.pid and state and state.get("pid") == proc.pid:
            return proc.pid
        time.sleep(0.03)
    procs.kill_group(proc)  # the session it started, by its id: no orphans
    raise WorkerError(
        f"The worker of build {build} did not start within {timeout:.0f}s; see {home.worker_log}."
    )


def ensure_worker(
    home: Home, settings: Settings, build: str, *, replace: bool = True
) -> tuple[int, str]:
    """Make sure a current worker serves ``build``.

    Args:
        replace: Replace a live worker whose fingerprint differs (sagaflow upgraded,
            API key or target changed); False keeps any live worker (acting on a run).

    Returns:
        ``(pid, action)`` where action is ``running``, ``started`` or ``replaced``.
    """
    wanted = expected_fingerprint(settings, build)
    touch_lease(home, build)
    with _spawn_lock(home):
        pid = live_pid(home, build)
        state = read_state(home, build)
        if pid is not None and (not replace or (state and state.get("fingerprint") == wanted)):
            return pid, "running"
        action = "started"
        if pid is not None:
            action = "replaced"
            _request_stop(home, build, pid, wait_for_exit=False)
        return spawn(home, settings, build), action


def describe_action(home: Home, pid: int, action: str, build: str) -> str:
    """The line saying what :func:`ensure_worker` did: ``worker started (pid 42, build ...)``."""
    return f"worker {action} (pid {pid}, build {build}); log: {home.worker_log}"


def serve_build(
    home: Home, settings: Settings, sources: Sequence[SkillSource] | None = None,
    notice: Callable[[str], None] | None = None, *, build: Build | None = None,
) -> tuple[Build, int, str]:
    """Snapshot the build of ``sources`` and make sure a current worker serves it.

    Args:
        sources: The skills found (default: :func:`~sagaflow.skills.discovery.discover`
            from the working directory).
        build: The build already made from them (:func:`sagaflow.skills.builds.make`).
        notice: Told :func:`describe_action`'s line when a worker was started or replaced.

    Returns:
        ``(build, pid, action)``, action as in :func:`ensure_worker`.

    Raises:
        BuildError: The snapshot could not be written.
        WorkerError: The worker exited at start or did not start in time.
    """
    from sagaflow.skills.builds import make
    from sagaflow.skills.discovery import discover

    if build is None:
        if sources is None:
            sources, _ = discover()
        build = make(home, sources)
    home.ensure(home.runs, home.worker, home.logs)
    pid, action = ensure_worker(home, settings, build.id)
    if action != "running" and notice is not None:
        notice(describe_action(home, pid, action, build.id))
    return build, pid, action


def serve(
    home: Home, settings: Settings, sources: Sequence[SkillSource] | None = None,
    notice: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """:func:`serve_build` without the build: ``(pid, action)``."""
    _build, pid, action = serve_build(home, settings, sources, notice)
    return pid, action


def revive(
    home: Home, settings: Settings, build: str, notice: Callable[[str], None] | None = None
) -> tuple[int, str]:
    """Bring back ``build``'s worker from its snapshot if none is alive (never replaces one).

    Raises:
        BuildError: The build's snapshot is missing (the message says how to recover).
        WorkerError: The worker exited at start or did not start in time.
    """
    from sagaflow.skills.builds import open_build

    pid = live_pid(home, build)
    if pid is not None:
        return pid, "running"
    open_build(home, build)  # a deleted snapshot: say so here, not in the worker log
    pid, action = ensure_worker(home, settings, build, replace=False)
    if action != "running" and notice is not None:
        notice(describe_action(home, pid, action, build))
    return pid, action


def _request_stop(
    home: Home, build: str, pid: int, *, wait_for_exit: bool, timeout: float = 30.0
) -> None:
    """SIGTERM the lock holder ``pid``; wait until the lock is free (and it exited, if asked).

    The process is identified once (psutil, create time): a pid reused meanwhile is
    neither waited for nor signalled.
    """
    proc = procs.find(pid)  # None: already gone, or the holder's pid is unknown (-1)
    if proc is not None:
        procs.send(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        released = live_pid(home, build) is None
        if released and (not wait_for_exit or proc is None or not procs.running(proc)):
            return
        time.sleep(0.05)
    if proc is not None and wait_for_exit:
        procs.send(proc, signal.SIGKILL)
        return
    raise WorkerError(
        f"The worker (pid {pid}) did not stop within {timeout:.0f}s; see {home.worker_log}."
    )


def stop(home: Home, timeout: float = 30.0) -> list[int]:
    """Stop every build's worker of this home gracefully; returns the pids stopped."""
    stopped = []
    for build, pid in live_workers(home).items():
        _request_stop(home, build, pid, wait_for_exit=True, timeout=timeout)
        stopped.append(pid)
    return stopped


def workers(home: Home) -> list[dict[str, Any]]:
    """Every live build worker: build, pid, task queue, started, what it loaded, log."""
    rows = []
    for build, pid in live_workers(home).items():
        state = read_state(home, build) or {}
        rows.append({
            "build": build, "pid": pid, "pool": "default",
            "task_queue": state.get("task_queue"), "address": state.get("address"),
            "started_at": state.get("started_at"), "skills": state.get("skills", []),
            "log": str(home.worker_log),
        })
    return rows
