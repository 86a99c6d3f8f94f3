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
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sagaflow
from sagaflow import procs
from sagaflow._engine.buildstate import (
    build_dir,
    live_pid,
    live_workers,
    read_state,
    touch_lease,
)
from sagaflow.config import Settings
from sagaflow.errors import WorkerError
from sagaflow.locks import exclusive
from sagaflow.paths import PRIVATE_UMASK, Home

if TYPE_CHECKING:
    from sagaflow.skills.builds import Build
    from sagaflow.skills.discovery import SkillSource

FINGERPRINT_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
#: where OpenTelemetry exports (read by a worker with ``otel`` on, at its start)
OTEL_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_EXPORTER",
            "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES")


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


def expected_fingerprint(settings: Settings, build: str) -> str:
    """What a worker serving ``settings`` and ``build`` (with this sagaflow) would record."""
    digest = hashlib.sha256()
    parts = [
        sagaflow.__version__, _code_stamp(), build, settings.address, settings.namespace,
        settings.task_queue, settings.profile or "",
        # what the worker reads once at start (plugin, converter, activities, idle and
        # shutdown timers): a change here means a new worker, never a silently stale one
        ",".join(settings.plugins), str(settings.otel), str(settings.plugin_seconds),
        str(settings.payload_store_bytes), str(settings.heartbeat_seconds),
        str(settings.worker_idle_seconds), str(settings.worker_shutdown_seconds),
        settings.slack_webhook_url or "",
        *(os.environ.get(name, "") for name in (OTEL_ENV if settings.otel else ())),
        *(os.environ.get(name, "") for name in FINGERPRINT_ENV),
    ]
    digest.update("\0".join(parts).encode())
    return digest.hexdigest()[:16]


def _spawn_lock(home: Home) -> contextlib.AbstractContextManager[None]:
    home.ensure(home.worker, home.logs)
    return exclusive(home.worker / "spawn.lock")


def _log_tail(home: Home, build: str, offset: int = 0) -> str:
    """The line that says why the worker of ``build`` exited: the last one written since
    ``offset`` (the log's size when it was spawned) that is this build's own or untagged
    (the CLI's one-line error, e.g. a configuration error at start); other builds'
    workers write to the same log, with their own tag."""
    try:
        with open(home.worker_log, "rb") as fh:
            fh.seek(offset)
            lines = fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    meaningful = [ln for ln in lines if ln.strip() and not ln.startswith(("Traceback", "  "))]
    own = [ln for ln in meaningful if f"[{build}]" in ln or not _TAGGED.search(ln)] or meaningful
    return own[-1][:300] if own else "no log"


#: a worker's log line tagged with its build (``... INFO sagaflow.worker [b1c2]: ...``)
_TAGGED = re.compile(r" \[[0-9A-Za-z._-]+\]: ")


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
        offset = log.tell()
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
                f"The worker of build {build} exited at start ({_log_tail(home, build, offset)}); "
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
    if live_pid(home, build.id) is None:
        _note_refused(home, build.id)
    pid, action = ensure_worker(home, settings, build.id)
    if action != "running" and notice is not None:
        notice(describe_action(home, pid, action, build.id))
    return build, pid, action


def _note_refused(home: Home, build: str) -> None:
    """Record the skill directories the naming rules left out of this directory's build, so
    the build's worker names them in its log (they are not in the snapshot)."""
    from sagaflow.skills.discovery import discover_all

    refused = [[str(source.dir), reason] for source, reason in discover_all().refused]
    with contextlib.suppress(OSError):
        build_dir(home, build).mkdir(parents=True, exist_ok=True)
        (build_dir(home, build) / "refused.json").write_text(json.dumps(refused), "utf-8")


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
