"""The ``claude -p`` transport, with the real Claude Code against the fake model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox


def _claude() -> Path | None:
    raw = os.environ.get("SAGAFLOW_TEST_CLAUDE") or shutil.which("claude")
    return Path(raw) if raw and Path(raw).exists() else None


@pytest.mark.skipif(_claude() is None, reason="Claude Code not installed (SAGAFLOW_TEST_CLAUDE)")
def test_claude_cli_transport_runs_hello_world(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    claude = _claude()
    assert claude is not None
    bindir = Path(sf.env["HOME"]) / "bin"
    bindir.mkdir()
    (bindir / "claude").symlink_to(claude)
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "SAGAFLOW_NO_HOOK": "1",
    }
    proc = sf.run(
        "launch", "hello-world", "--name", "nia", "--await", "--transport", "claude",
        check=True, timeout=180, **env,
    )
    assert proc.stdout.strip() == "hello, nia"
    assert fake_model.calls("Greet nia") >= 1
