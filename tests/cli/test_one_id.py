"""One id is one run, and a run keeps the configuration it started with, through the CLI.

Real launches (separate processes) against a real Temporal and the fake Anthropic API:
concurrent launches of one id, ``config.yaml`` broken and changed between a run's steps,
a run directory removed mid-run.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

from sagaflow import inbox

SCRIPTED_NOTE = "scripted replies, no model called"


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _entry(sf: Sandbox, run_id: str) -> inbox.Entry:
    _wait_for(lambda: inbox.has_entry(sf.home / "INBOX.md", run_id), f"an inbox entry of {run_id}")
    entries, _ = inbox.read(sf.home / "INBOX.md")
    (entry,) = [e for e in entries if e.run_id == run_id]
    return entry


def _launch_pair(sf: Sandbox, *args: str) -> list[tuple[int, str, str]]:
    procs = [sf.popen("launch", *args) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append((proc.returncode, out, err))
    return results


def test_concurrent_launches_of_one_id_make_one_run(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    rounds = 10
    for i in range(rounds):
        run_id = f"same-{i}"
        results = _launch_pair(sf, "hello-world", "--name", f"r{i}", "--id", run_id, "--await")
        assert [r[0] for r in results] == [0, 0], results
        assert [r[1].strip() for r in results] == [f"hello, r{i}"] * 2
        assert sum("attached to open run" in r[2] for r in results) == 1, results
        assert fake_model.calls(f"Greet r{i}") == 1  # one run: the model was asked once
        run_dir = sf.home / "runs" / run_id
        record = json.loads((run_dir / "run.json").read_text())
        assert record["run_id"] == run_id and record["args"] == {"name": f"r{i}"}
        assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    listed = json.loads(sf.run("list", "--json", check=True).stdout)
    assert sorted(r["run_id"] for r in listed) == sorted(f"same-{i}" for i in range(rounds))
    assert all(r["status"] == "completed" for r in listed)
    entries, problems = inbox.read(sf.home / "INBOX.md")
    assert not problems and sorted(e.run_id for e in entries) == sorted(r["run_id"] for r in listed)
    # the launch locks are shared stripes, not one file left behind per id
    locks = [p.name for p in (sf.home / "runs").iterdir() if p.name.startswith(".launch-")]
    assert locks and all(re.fullmatch(r"\.launch-\d\d\.lock", name) for name in locks), locks

    # --if-exists fail: exactly one of two starts it, the other says why; the record survives
    results = _launch_pair(sf, "hello-world", "--name", "f", "--id", "fail-once", "--if-exists", "fail")
    assert sorted(r[0] for r in results) == [0, 2], results
    (refused,) = [r for r in results if r[0] == 2]
    assert "already exists" in refused[2] and "Traceback" not in refused[2]
    assert json.loads((sf.home / "runs" / "fail-once" / "run.json").read_text())["args"] == {"name": "f"}
    assert _entry(sf, "fail-once").status == "DONE"
    assert fake_model.calls("Greet f") == 1


def test_config_broken_then_changed_between_steps_leaves_the_run_alone(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("artifact-path")
    run_id = sf.run(
        "launch", "artifact-path", "--path", "a.txt", "--prompt", "a.txt", "--pause", "6",
        "--transport", "scripted", check=True,
    ).stdout.strip()
    _wait_for(lambda: (sf.home / "runs" / run_id / "a.txt").exists(), "the first step")
    config = sf.home / "config.yaml"
    config.write_text("transport: [not yaml\n")
    broken = sf.run("list")
    assert broken.returncode != 0 and "config.yaml" in broken.stderr  # really broken
    # fixed, but now it says something else: the run still uses what it started with
    config.write_text("transport: anthropic\nmodels:\n  HAIKU: some-other-model\n")
    assert not inbox.has_entry(sf.home / "INBOX.md", run_id)  # changed while the run waited
    entry = _entry(sf, run_id)
    assert (entry.status, entry.summary, entry.note) == (
        "DONE", "wrote, model said scripted", SCRIPTED_NOTE)
    assert fake_model.calls() == 0  # never switched to the (paid) API
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed"


def test_a_run_whose_directory_vanished_fails_clearly_and_never_pays(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("artifact-path")
    run_id = sf.run(
        "launch", "artifact-path", "--path", "a.txt", "--prompt", "a.txt", "--pause", "3",
        "--transport", "scripted", check=True,
    ).stdout.strip()
    run_dir = sf.home / "runs" / run_id
    _wait_for(lambda: (run_dir / "a.txt").exists(), "the first step")
    shutil.rmtree(run_dir)
    entry = _entry(sf, run_id)
    assert entry.status == "FAILED"
    assert f"Cannot read the user prompt {Path(run_dir).resolve() / 'a.txt'}" in entry.summary
    assert "\n" not in entry.summary.strip()
    assert fake_model.calls() == 0
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "failed"
