"""The ``sagaflow_run_tool`` activity in Temporal's ActivityEnvironment: heartbeats while a
tool runs, and only infrastructure faults raise."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import pytest
from agent_tools_helpers import call
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from sagaflow.agent.permissions import PermissionRules
from sagaflow.agent.tools import ToolOutcome
from sagaflow.agent.tools import paths as tool_paths
from sagaflow.agent.tools import write as write_tool
from sagaflow.agent.tools.activity import HEARTBEAT_SECONDS, run_tool


def test_long_bash_call_heartbeats(tmp_path: Path) -> None:
    env = ActivityEnvironment()
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    out = asyncio.run(env.run(run_tool, call("Bash", tmp_path, command="sleep 2.2; echo ok")))
    assert out == ToolOutcome("ok")
    assert len(beats) >= int(2.2 / HEARTBEAT_SECONDS)


def test_quick_tool_call_sends_no_heartbeat(tmp_path: Path) -> None:
    env = ActivityEnvironment()
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    (tmp_path / "a.txt").write_text("x\n")
    out = asyncio.run(env.run(run_tool, call("Read", tmp_path, file_path=str(tmp_path / "a.txt"))))
    assert not out.is_error
    assert beats == []  # each beat is an RPC and a server write: none before one interval


def test_tool_failure_is_an_outcome_not_an_exception(tmp_path: Path) -> None:
    out = asyncio.run(ActivityEnvironment().run(
        run_tool, call("Read", tmp_path, file_path="missing.txt")))
    assert out.is_error and "No such file or directory" in out.content


def test_disk_full_raises_for_temporal_to_retry(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, content: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write_tool, "write_atomically", full)
    assert {errno.ENOSPC, errno.EIO} <= tool_paths.INFRASTRUCTURE_ERRNOS
    with pytest.raises(OSError, match="No space left"):
        asyncio.run(ActivityEnvironment().run(
            run_tool, call("Write", tmp_path, file_path="a", content="x")))


def test_malformed_rule_is_a_non_retryable_failure(tmp_path: Path) -> None:
    rules = PermissionRules(allow=("Bash(oops",))
    with pytest.raises(ApplicationError) as caught:
        asyncio.run(ActivityEnvironment().run(
            run_tool, call("Bash", tmp_path, rules=rules, command="ls")))
    assert caught.value.non_retryable and caught.value.type == "ConfigError"
    assert "malformed" in caught.value.message
