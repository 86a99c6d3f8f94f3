"""sagaflow.procs: process identity by pid, create time and command line (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sagaflow import procs

SLEEPER = ("import signal, sys, time\n"
           "if sys.argv[1] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
           "print('ready', flush=True)\ntime.sleep(60)")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER, "polite", "marker-7731"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_live_process_is_found_by_pid_create_time_and_argument(
    sleeper: subprocess.Popen[bytes],
) -> None:
    created = procs.create_time(sleeper.pid)
    assert created is not None and abs(created - time.time()) < 60
    found = procs.find(sleeper.pid, created=created, arg="marker-7731")
    assert found is not None and found.pid == sleeper.pid and procs.running(found)


def test_a_reused_pid_or_another_program_is_not_ours(sleeper: subprocess.Popen[bytes]) -> None:
    created = procs.create_time(sleeper.pid)
    assert created is not None
    assert procs.find(sleeper.pid, created=created - 3600) is None  # started at another time
    assert procs.find(sleeper.pid, arg="/some/other/temporal.db") is None
    assert procs.find(0) is None and procs.find(-1) is None  # never a process group


def test_an_exited_process_is_gone_even_before_it_is_reaped(
    sleeper: subprocess.Popen[bytes],
) -> None:
    found = procs.find(sleeper.pid)
    assert found is not None
    os.kill(sleeper.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while procs.running(found) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not procs.running(found)
    assert procs.find(sleeper.pid) is None  # a zombie (not waited for yet) is not live
    assert procs.create_time(sleeper.pid) is None
    sleeper.wait()
    assert procs.find(sleeper.pid) is None


def test_stop_escalates_to_sigkill_for_a_process_ignoring_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER, "stubborn"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # SIGTERM ignored
        found = procs.find(proc.pid)
        assert found is not None
        started = time.monotonic()
        assert procs.stop(found, timeout=0.5) is True
        assert 0.5 <= time.monotonic() - started < 5  # waited out the SIGTERM, then killed
        assert not procs.running(found) and procs.find(proc.pid) is None
        assert procs.stop(found, timeout=0.5) is True  # already gone: still "stopped"
        assert procs.send(found, signal.SIGTERM) is False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
