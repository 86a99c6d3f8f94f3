"""A run pinned to a pool no worker serves any more says so (issue 8 item 7).

``show``, ``list``, ``doctor`` and ``worker status --pool P`` combine Temporal's
poller list (which keeps a killed worker for minutes) with this host's pool locks
(which know at once).
"""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, kill_pid
from test_steer import outcome, wait_for, wait_pending

NOTE = "waiting for a worker of pool gpu (none polling since "


def _pool(sf: Sandbox) -> tuple[int, dict[str, Any]]:
    proc = sf.run("worker", "status", "--pool", "gpu", "--json")
    return proc.returncode, json.loads(proc.stdout)


def _start_worker(sf: Sandbox) -> subprocess.Popen[str]:
    worker = sf.popen("worker", "run", "--pool", "gpu")
    wait_for(lambda: (s := _pool(sf)[1])["serving"] and worker.pid in s["local_pids"],
             "the gpu worker to hold its pool lock", timeout=90)
    return worker


def _row(sf: Sandbox, run_id: str) -> dict[str, Any]:
    rows = json.loads(sf.run("list", "--json", check=True).stdout)
    return next(r for r in rows if r["run_id"] == run_id)  # type: ignore[no-any-return]


def test_a_run_whose_pool_lost_its_worker_says_so(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.install_skill("gated")  # before the pool worker starts: a worker's skills are fixed
    worker = _start_worker(sf)
    code, status = _pool(sf)
    assert code == 0 and status["waiting_note"] is None and status["task_queue"].endswith("-pool-gpu")
    run_id = sf.run("launch", "gated", "--pool", "gpu", check=True).stdout.strip()
    wait_pending(sf, run_id)
    assert "worker    " not in sf.run("show", run_id, check=True).stdout
    assert _row(sf, run_id)["worker"] is None

    kill_pid(worker.pid, signal.SIGKILL)
    worker.wait(10)
    # Temporal still lists the killed worker's poller; the released lock says it is gone
    code, status = _pool(sf)
    assert code == 1 and not status["serving"] and status["local_pids"] == []
    assert status["pollers"] and not any(p["alive"] for p in status["pollers"])
    assert status["waiting_note"].startswith(NOTE)
    human = sf.run("worker", "status", "--pool", "gpu")
    assert human.returncode == 1 and "no worker" in human.stdout
    assert NOTE in human.stderr and "'sagaflow worker run --pool gpu'" in human.stderr

    shown = sf.run("show", run_id, check=True).stdout
    line = next(ln for ln in shown.splitlines() if ln.startswith("worker    "))
    assert NOTE in line and "start one with 'sagaflow worker run --pool gpu'" in line
    assert NOTE in json.loads(sf.run("show", run_id, "--json", check=True).stdout)["worker"]

    row = _row(sf, run_id)
    assert row["status"] == "running" and row["worker"].startswith(NOTE)
    table = sf.run("list", check=True)
    assert NOTE in table.stdout and "sagaflow worker run --pool gpu" in table.stderr

    checks = json.loads(sf.run("doctor", "--json").stdout)
    found = next(c for c in checks if c["name"] == "pool gpu")
    assert found["level"] == "WARN" and found["detail"].startswith("1 running run " + NOTE)
    assert found["fix"] == "start one with 'sagaflow worker run --pool gpu'"

    # a retry of a run whose pool has no worker says so instead of waiting on it
    sf.run("terminate", run_id, "--reason", "moving hosts", check=True)
    plan = json.loads(sf.run("retry", run_id, "--json", check=True).stdout)
    assert plan["worker"].startswith(NOTE)
    assert NOTE in sf.run("show", run_id, check=True).stdout

    # a worker serves the pool again: the notes go, and the run goes on
    worker = _start_worker(sf)
    wait_pending(sf, run_id)
    assert "worker    " not in sf.run("show", run_id, check=True).stdout
    assert _row(sf, run_id)["worker"] is None
    assert not any(c["name"] == "pool gpu" for c in json.loads(sf.run("doctor", "--json").stdout))
    sf.run("approve", run_id, check=True)
    assert outcome(sf, run_id)[0] == "completed"

    # a clean stop stamps when the pool was last served
    worker.send_signal(signal.SIGTERM)
    worker.wait(30)
    code, status = _pool(sf)
    assert code == 1 and status["last_seen"] and status["waiting_note"].startswith(NOTE)
    # launching onto the pool now is refused: Temporal still lists the stopped worker's
    # poller, and a run started then would sit "running" with nobody to run it
    refused = sf.run("launch", "gated", "--pool", "gpu")
    assert refused.returncode == 2 and not refused.stdout
    assert "No worker serves pool 'gpu' any more (none polling since " in refused.stderr
    assert "'sagaflow worker run --pool gpu'" in refused.stderr


def test_worker_status_pool_refuses_a_bad_name(sf: Sandbox) -> None:
    proc = sf.run("worker", "status", "--pool", "bad name!")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("sagaflow: ")
