"""Helpers shared by the test suites: free ports, our own dev server, the CLI sandbox.

A plain module (not a conftest), so tests import it by name whatever conftest files
other test folders add: ``from sandbox import Sandbox, free_port``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sagaflow import ports
from sagaflow._engine import meta
from sagaflow._engine.server import VERSIONING_LIMITS, ready, temporal_binary

REPO = Path(__file__).resolve().parent.parent
TEST_SKILLS = Path(__file__).parent / "skills"


def free_port() -> int:
    """A loopback port nothing listens on, kept from other ``bind(0)`` calls (sagaflow.ports)."""
    return ports.free_port()


def start_dev_server(db: Path, timeout: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """A temporal dev server we own (by pid) and its address, once its frontend serves requests.

    A start that loses a port to another process ("address already in use": the other xdist
    worker's servers pick ports too) is tried again on fresh ports, as sagaflow's own is.
    """
    log_path = db.with_suffix(".log")
    for _attempt in range(3):
        port, http_port, metrics_port = ports.free_ports("127.0.0.1", 3)
        offset = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [
                    str(temporal_binary()), "server", "start-dev", "--headless",
                    "--ip", "127.0.0.1", "--port", str(port),
                    "--http-port", str(http_port), "--metrics-port", str(metrics_port),
                    "--db-filename", str(db),
                    # deleting a closed run waits for the transfer queue's ack level, which the
                    # server saves every 30 s by default: purge tests would wait that long
                    "--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="1s"',
                    # every sandbox's task queue is a worker deployment; the server caps them
                    *(arg for limit in VERSIONING_LIMITS for arg in ("--dynamic-config-value", limit)),
                    "--dynamic-config-value", meta.DEV_SERVER_CONFIG,  # blocked runs tagged at once
                ],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not ready(f"127.0.0.1:{port}", "127.0.0.1", http_port):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.05)
        else:
            return proc, f"127.0.0.1:{port}"
        with open(log_path, "rb") as fh:
            fh.seek(offset)
            if b"address already in use" not in fh.read():
                break
    raise RuntimeError(f"temporal dev server did not start; see {log_path}")


def kill_pid(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass
class Sandbox:
    """One user's world: env, home, and a CLI runner."""

    root: Path
    env: dict[str, str]
    spawned: list[int] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return Path(self.env["SAGAFLOW_HOME"])

    @property
    def user_skills(self) -> Path:
        return Path(self.env["HOME"]) / ".claude" / "skills"

    def run(
        self, *args: str, timeout: float = 120, check: bool = False, cwd: Path | None = None,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "sagaflow", *args],
            env={**self.env, **env}, cwd=cwd or self.root, capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sagaflow {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sagaflow", *args],
            env={**self.env, **env}, cwd=self.root, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        )
        self.spawned.append(proc.pid)
        return proc

    def worker_states(self) -> list[dict[str, object]]:
        """Every build worker's recorded state (alive or not), newest start last."""
        found = []
        for path in (self.home / "worker" / "builds").glob("*/state.json"):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda s: str(s.get("started_at")))

    def worker_pid(self) -> int | None:
        """The pid of the build worker started last (None: none ever started)."""
        states = self.worker_states()
        return int(str(states[-1]["pid"])) if states else None

    def install_skill(self, name: str, into: Path | None = None) -> Path:
        """Copy a test skill from tests/skills into the user's skills dir."""
        import shutil

        target = (into or self.user_skills) / name
        shutil.copytree(TEST_SKILLS / name, target)
        return target


def _stop_home_processes(sandbox: Sandbox) -> None:
    """Stop the workers, the launcher and any embedded server this home started, by
    recorded pid."""
    states = [sandbox.home / "server" / "state.json", sandbox.home / "launcher.json",
              *(sandbox.home / "worker" / "builds").glob("*/state.json")]
    for path in states:
        try:
            pid = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
        kill_pid(pid, signal.SIGKILL)
    for pid in sandbox.spawned:
        kill_pid(pid, signal.SIGKILL)


def one_line_failure(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Assert a clean CLI failure: exit ``code``, no traceback, one ``sagaflow:`` line holding
    every needle; returns that line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("sagaflow:")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
