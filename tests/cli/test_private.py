"""Private by default: after a real run under umask 022 the whole home is owner-only,
the embedded server holds no model keys, doctor reports and fixes looser modes, and
the logs hold no terminal escapes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, free_port

SECRETS = {"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN", "MY_SECRET_TOKEN"}


def _run_022(sf: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI under the umask most users have (files 0644, directories 0755)."""
    return subprocess.run(
        [sys.executable, "-m", "sagaflow", *args], env=sf.env, cwd=sf.root,
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL, umask=0o022,
    )


def _modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (itself included) whose mode is not 0700 / 0600 (0400 for
    the immutable build snapshots' files)."""
    odd = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        parts = path.relative_to(root).parts
        snapshot = parts[:1] == ("builds",) and len(parts) > 2
        want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o400 if snapshot else 0o600
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != want:
            odd[str(path.relative_to(root))] = f"{stat.S_IMODE(st.st_mode):04o}"
    return odd


def test_home_is_private_after_a_run_and_the_server_gets_no_keys(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    # this home starts its own embedded server (fresh port), so its DB and log are in it
    sf.env.update({"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
                   "CLAUDE_CODE_OAUTH_TOKEN": "oauth-secret", "MY_SECRET_TOKEN": "hush"})
    proc = _run_022(sf, "launch", "hello-world", "--name", "pat", "--await")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello, pat"
    _run_022(sf, "inbox")  # a reader too
    assert _modes(sf.home) == {}
    names = {p.name for p in sf.home.rglob("*")}
    assert {"INBOX.md", "run.json", "temporal.db", "server.log", "worker.log"} <= names, names

    state = json.loads((sf.home / "server" / "state.json").read_text())
    server_env = psutil.Process(state["pid"]).environ()
    assert not SECRETS & server_env.keys(), sorted(server_env)
    assert not [k for k in server_env if k.startswith(("ANTHROPIC_", "CLAUDE_", "TEMPORAL_"))]
    assert server_env.get("NO_COLOR") == "1" and "PATH" in server_env
    worker_env = psutil.Process(sf.worker_pid() or 0).environ()
    assert worker_env["ANTHROPIC_API_KEY"] == "sk-test-not-a-real-key"  # the worker needs it

    # Temporal's core logs (WARN) reach worker.log through sagaflow's formatter: no colours
    assert sf.run("server", "stop").returncode == 0
    log = sf.home / "logs" / "worker.log"
    deadline = time.monotonic() + 60
    while b"WARNING temporalio.core" not in log.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.5)
    worker_log = log.read_bytes()
    assert b"WARNING temporalio.core" in worker_log, worker_log[-2000:]
    assert b"\x1b" not in worker_log
    assert b"\x1b" not in (sf.home / "server" / "server.log").read_bytes()


def test_doctor_warns_about_loose_modes_and_gives_the_command(sf: Sandbox) -> None:
    assert sf.run("path", "home").returncode == 0
    sf.home.mkdir(exist_ok=True)
    (sf.home / "INBOX.md").write_text("")
    loose_file, loose_dir = sf.home / "INBOX.md", sf.home / "runs" / "old-run"
    loose_dir.mkdir(parents=True)
    loose_file.chmod(0o644)
    loose_dir.chmod(0o755)
    sf.home.chmod(0o755)

    checks = {c["name"]: c for c in json.loads(sf.run("doctor", "--json").stdout)}
    perms = checks["permissions"]
    assert perms["level"] == "WARN"
    assert f"{loose_file} (0644)" in perms["detail"] and f"{loose_dir} (0755)" in perms["detail"]
    assert perms["fix"] == f"run: chmod -R go-rwx {sf.home}"
    # the home itself was tightened by sagaflow (so nothing inside is reachable meanwhile)
    assert stat.S_IMODE(sf.home.stat().st_mode) == 0o700
    human = sf.run("doctor").stdout
    assert f"chmod -R go-rwx {sf.home}" in human

    subprocess.run(perms["fix"].removeprefix("run: "), shell=True, check=True)
    checks = {c["name"]: c for c in json.loads(sf.run("doctor", "--json").stdout)}
    assert checks["permissions"]["level"] == "OK", checks["permissions"]
    assert os.stat(loose_file).st_mode & 0o077 == 0
