"""SIGKILL the worker in the middle of a 10-call agent loop: nothing completed runs twice."""

from __future__ import annotations

import json
import os
import signal
import time

from agent_helpers import user_skill
from fake_anthropic import FakeAnthropic
from fake_tools import turn_number
from sandbox import Sandbox

TEN_CALLS = [
    {"repeat": 10, "tools": [{"Bash": {"command": "echo call-$turn >> side.txt"}}]},
    {"text": "Ten calls made."},
]


def test_sigkill_after_the_third_tool_call_resumes_without_repeats(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    user_skill(sf, "ten", "Append ten lines.\n", frontmatter="allowed-tools: Bash(echo:*)\n")
    fake_model.script_turns(TEN_CALLS)
    fake_model.hold_turn(4, 30)  # turn 4 reads the 3rd call's result: the crash window
    sf.run("launch", "ten", "--id", "ten-1", check=True)
    assert fake_model.wait_for_requests(4, timeout=90)
    side = sf.root / "side.txt"
    assert side.read_text().splitlines() == ["call-1", "call-2", "call-3"]
    worker = sf.worker_pid()
    assert worker is not None
    os.kill(worker, signal.SIGKILL)  # the daemon this test's launch started
    killed = time.monotonic()
    proc = sf.run("launch", "ten", "--id", "ten-1", "--await", check=True, timeout=180)
    print(f"resumed and finished {time.monotonic() - killed:.1f}s after SIGKILL")
    assert "Ten calls made." in proc.stdout
    assert side.read_text().splitlines() == [f"call-{n}" for n in range(1, 11)]
    turns = [turn_number(r["json"]) for r in fake_model.requests if "tools" in r["json"]]
    assert sorted(set(turns)) == list(range(1, 12))
    again = sorted(t for t in set(turns) if turns.count(t) > 1)
    assert again in ([], [4]), turns  # only the turn in flight at the kill may be asked again
    shown = json.loads(sf.run("show", "ten-1", "--json", check=True).stdout)
    assert shown["status"] == "completed"
