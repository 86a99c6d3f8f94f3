"""Tests for sagaflow._engine.server against the real ``temporal`` binary (never mocked)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sagaflow import procs
from sagaflow._engine import server
from sagaflow.config import Settings
from sagaflow.errors import ConfigError, ServerError, TemporalError
from sagaflow.paths import Home
from sagaflow.ports import free_port, free_ports


def _servers_on(db: Path) -> list[int]:
    """Pids of live processes whose command line names ``db`` (a unique temp path)."""
    pids = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if str(db) in proc.cmdline() and proc.status() != psutil.STATUS_ZOMBIE:
                pids.append(proc.pid)
    return pids


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie not yet reaped by its (new) parent."""
    return procs.find(pid) is None


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    """A fresh home; any server started in it is stopped (by pid) afterwards."""
    h = Home(tmp_path / "home")
    yield h
    try:
        server.stop(h, timeout=5)
    finally:
        for pid in _servers_on(h.server / "temporal.db"):  # leak guard, by pid only
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def settings() -> Settings:
    return Settings(address=f"127.0.0.1:{free_port()}", server_start_seconds=20)


def test_parse_address_and_loopback() -> None:
    assert server.parse_address("localhost") == ("localhost", 7233)
    assert server.parse_address("127.0.0.1:7000") == ("127.0.0.1", 7000)
    assert server.parse_address("[::1]:7001") == ("::1", 7001)
    assert server.parse_address("::1") == ("::1", 7233)
    assert server.parse_address("temporal.example.com:443") == ("temporal.example.com", 443)
    with pytest.raises(ConfigError):
        server.parse_address("localhost:http")
    for local in ("localhost", "LOCALHOST:7233", "127.0.0.1:1", "127.3.4.5", "[::1]:7233"):
        assert server.is_loopback(local), local
    for remote in ("10.0.0.1:7233", "temporal.example.com", "0.0.0.0:7233", "::", "x:bad"):
        assert not server.is_loopback(remote), remote


def test_temporal_binary_is_executable() -> None:
    binary = server.temporal_binary()
    assert binary.is_file() and os.access(binary, os.X_OK)


def test_start_status_stop(home: Home, settings: Settings) -> None:
    assert not server.answers(settings.address)
    began = time.monotonic()
    state = server.start(home, settings)
    assert time.monotonic() - began < 10
    assert server.answers(settings.address)
    assert state.grpc_port == server.parse_address(settings.address)[1]
    assert len({state.grpc_port, state.http_port, state.metrics_port}) == 3
    assert state.ui_port is None
    recorded = json.loads((home.server / "state.json").read_text())
    assert recorded["pid"] == state.pid and recorded["db_path"] == state.db_path
    assert recorded["create_time"] == state.create_time and state.create_time

    info = server.status(home, settings)
    assert info["answering"] and info["managed"] and info["pid"] == state.pid
    assert info["ports"]["grpc"] == state.grpc_port and info["ui_url"] is None
    # Starting again returns our running server instead of a second one.
    assert server.start(home, settings) == state
    assert server.ensure_running(home, settings) is False

    stopped = server.stop(home)
    assert stopped == state
    assert _gone(state.pid)
    assert not (home.server / "state.json").exists()
    assert not server.answers(settings.address)
    info = server.status(home, settings)
    assert not info["answering"] and not info["managed"] and info["pid"] is None
    assert server.stop(home) is None


def test_start_with_ui_and_namespace(home: Home, settings: Settings) -> None:
    from dataclasses import replace

    state = server.start(home, replace(settings, namespace="sagaflow-test"), ui=True)
    assert state.ui_port is not None
    assert server.status(home, settings)["ui_url"] == f"http://127.0.0.1:{state.ui_port}"
    cmdline = psutil.Process(state.pid).cmdline()
    assert "--headless" not in cmdline and "sagaflow-test" in cmdline
    # timeout=0: SIGTERM is not waited for, so the SIGKILL path runs.
    assert server.stop(home, timeout=0.0) == state
    assert _gone(state.pid) and not server.answers(settings.address)


async def _custom_attributes(address: str) -> dict[str, str]:
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
    from temporalio.client import Client

    client = await Client.connect(address)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return {name: IndexedValueType.Name(kind) for name, kind in listed.custom_attributes.items()}


def test_fresh_server_has_search_attributes_and_a_reused_pid_is_left_alone(
    home: Home, settings: Settings
) -> None:
    from sagaflow._engine.meta import SEARCH_ATTRIBUTES

    state = server.start(home, settings)
    custom = asyncio.run(_custom_attributes(settings.address))  # no worker registered them
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert custom.get(name) == f"INDEXED_VALUE_TYPE_{kind.upper()}", (name, custom)
    assert list(home.server.glob("search-attributes-*.ok")) == []
    # Same pid, same database, but another start time: a reused pid, never signalled.
    state_file = home.server / "state.json"
    recorded = state_file.read_text()
    state_file.write_text(json.dumps({**json.loads(recorded), "create_time": state.create_time - 60}))
    assert server.status(home, settings)["managed"] is False
    assert server.stop(home) is None
    assert not _gone(state.pid) and server.answers(settings.address)
    state_file.write_text(recorded)
    assert server.stop(home) == state and _gone(state.pid)


async def _start_workflow(address: str) -> None:
    from temporalio.client import Client

    client = await Client.connect(address)
    await client.start_workflow("Nope", id="persist-1", task_queue="q")


async def _describe(address: str) -> str:
    from temporalio.client import Client

    client = await Client.connect(address)
    description = await client.get_workflow_handle("persist-1").describe()
    return description.status.name if description.status else "UNKNOWN"


def test_workflow_state_survives_restart(home: Home, settings: Settings) -> None:
    first = server.start(home, settings)
    asyncio.run(_start_workflow(settings.address))  # no worker: it just stays RUNNING
    assert server.stop(home) is not None
    second = server.start(home, settings)
    assert second.pid != first.pid and second.db_path == first.db_path
    assert asyncio.run(_describe(settings.address)) == "RUNNING"


_ENSURE = """
import sys, time
from pathlib import Path
from sagaflow.config import Settings
from sagaflow.paths import Home
from sagaflow._engine.server import ensure_running
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
print(ensure_running(Home(Path(sys.argv[1])), Settings(address=sys.argv[2])))
"""


def test_concurrent_ensure_running_starts_one_server(home: Home, settings: Settings) -> None:
    go = str(time.time() + 1.0)  # both processes call ensure_running at the same instant
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ENSURE, str(home.root), settings.address, go],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert sorted(out.strip() for out, _ in results) == ["False", "True"]
    assert server.answers(settings.address)
    pids = _servers_on(home.server / "temporal.db")
    assert len(pids) == 1
    info = server.status(home, settings)
    assert info["managed"] and info["pid"] == pids[0]
    # A server started by another (now exited) process is still stopped by pid.
    assert server.stop(home) is not None
    assert _gone(pids[0])


def test_stop_without_server_returns_none(home: Home) -> None:
    assert server.stop(home) is None
    home.ensure(home.server)
    state_file = home.server / "state.json"
    stale = {
        "pid": 0, "address": "127.0.0.1:1", "grpc_port": 1, "http_port": 2,
        "metrics_port": 3, "ui_port": None, "db_path": str(home.server / "temporal.db"),
        "log_path": str(home.server / "server.log"), "started_at": "2020-01-01T00:00:00+00:00",
    }
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, 0):  # a dead pid, and a pid that must never be signalled
        state_file.write_text(json.dumps({**stale, "pid": pid}))
        assert server.stop(home) is None
        assert not state_file.exists()
    # A live pid that is not our server (pid reuse) is left alone.
    state_file.write_text(json.dumps({**stale, "pid": os.getpid()}))
    assert server.stop(home) is None
    assert not state_file.exists()
    state_file.write_text("{not json")
    assert server.stop(home) is None


def test_non_loopback_address_is_refused(home: Home) -> None:
    remote = Settings(address="192.0.2.1:7233")  # TEST-NET-1: never answers
    with pytest.raises(ServerError, match="not a local address"):
        server.start(home, remote)
    with pytest.raises(TemporalError, match="does not answer"):
        server.ensure_running(home, remote)
    assert not (home.server / "state.json").exists()


def test_foreign_listener_is_not_replaced(home: Home) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = Settings(address=f"127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(ServerError, match="already answers"):
            server.start(home, busy)
        assert server.ensure_running(home, busy) is False
        assert server.status(home, busy)["answering"] is True
        assert server.status(home, busy)["managed"] is False


def test_failed_start_reports_log_and_cleans_up(home: Home, settings: Settings) -> None:
    home.ensure(home.server)
    (home.server / "temporal.db").mkdir()  # SQLite cannot open a directory
    with pytest.raises(ServerError) as caught:
        server.start(home, settings)
    message = str(caught.value)
    assert "exited with code" in message and str(home.server / "server.log") in message
    assert "last log line:" in message
    assert not (home.server / "state.json").exists()
    assert _servers_on(home.server / "temporal.db") == []
    assert not server.answers(settings.address)


def test_a_start_that_loses_a_port_race_is_tried_again_on_fresh_ports(
        home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process can take a port between our pick and the server's bind (CI saw the
    restarted server die with "address already in use"): the start is tried on fresh ports."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        picks: list[list[int]] = []

        def racing_pick(host: str, count: int = 1, *, exclude: set[int]) -> list[int]:
            found = free_ports(host, count, exclude=exclude)
            if not picks:  # the first pick hands out a port another process already holds
                found[0] = int(taken.getsockname()[1])
            picks.append(found)
            return found

        monkeypatch.setattr(server, "free_ports", racing_pick)
        state = server.start(home, settings)
        assert len(picks) == 2 and state.http_port == picks[1][0] != picks[0][0]
        assert server.answers(settings.address)
        log = (home.server / "server.log").read_text("utf-8")
        assert log.count("sagaflow: ") == 2 and "address already in use" in log
    server.stop(home)


def test_a_start_that_keeps_losing_port_races_says_why(
        home: Home, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        monkeypatch.setattr(server, "free_ports",
                            lambda host, count=1, *, exclude: [busy, *free_ports(host, count - 1)])
        with pytest.raises(ServerError) as caught:
            server.start(home, settings)
    message = str(caught.value)
    assert "address already in use" in message and message.count("\n") == 0
    assert (home.server / "server.log").read_text("utf-8").count("sagaflow: ") == \
        server.PORT_RACE_ATTEMPTS
    assert not (home.server / "state.json").exists()
