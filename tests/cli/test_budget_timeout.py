"""Budgets park runs for approval; --timeout, --if-exists and pool checks at launch."""

from __future__ import annotations

import json
import time
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

STEP_REPLY = "STRUCTURED_OUTPUT_START\nRESULT|ok\nSTRUCTURED_OUTPUT_END"
# Each fake call uses a few dozen tokens: at $10,000 per MTok one call costs about $0.30-0.50.
PRICEY = "prices:\n  claude-sonnet-4-5: {input: 10000, output: 10000}\n"


def _wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _inbox(sf: Sandbox) -> list[dict[str, Any]]:
    return list(json.loads(sf.run("inbox", "--all", "--json", check=True).stdout))


def _setup(sf: Sandbox, fake_model: FakeAnthropic, config: str = PRICEY) -> None:
    sf.install_skill("two-step")
    fake_model.add_reply(r"step about", STEP_REPLY)
    sf.home.mkdir(parents=True, exist_ok=True)
    (sf.home / "config.yaml").write_text(config, encoding="utf-8")


def test_budget_parks_run_until_extended(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    run_id = sf.run(
        "launch", "two-step", "--topic", "x", "--budget-usd", "0.10", check=True
    ).stdout.strip()

    def parked() -> bool:
        entries = [e for e in _inbox(sf) if e["run_id"] == run_id]
        return any(e["status"] == "NEEDS_APPROVAL" and e["unread"] for e in entries)

    _wait_for(parked, what="a NEEDS APPROVAL entry")
    entry = next(e for e in _inbox(sf) if e["run_id"] == run_id)
    assert "budget reached" in entry["summary"]
    assert f"sagaflow approve {run_id} --extend-budget" in entry["summary"]
    # parked before the first call: its worst case (200 output tokens at $10,000/MTok,
    # $2.00) is over the $0.10 budget
    assert fake_model.calls("step about") == 0
    assert "the next call may cost up to $2." in entry["summary"]

    listed = json.loads(sf.run("list", "--waiting", "--json", check=True).stdout)
    assert [r["run_id"] for r in listed] == [run_id]

    # approving a budget gate without extending it is refused, nothing changes
    refused = sf.run("approve", run_id)
    assert refused.returncode != 0
    assert "--extend-budget" in refused.stderr and "Traceback" not in refused.stderr
    negative = sf.run("approve", run_id, "--extend-budget", "-1")
    assert negative.returncode != 0 and "Traceback" not in negative.stderr

    sf.run("approve", run_id, "--extend-budget", "5.00", check=True)
    result = sf.run("launch", "two-step", "--id", run_id, "--await", check=True)
    assert "ok + ok" in result.stdout
    assert fake_model.calls("step about") == 2
    retired = [e for e in _inbox(sf) if e["run_id"] == run_id and e["status"] == "NEEDS_APPROVAL"]
    assert retired and not any(e["unread"] for e in retired)


def test_rejected_budget_fails_the_run(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    run_id = sf.run(
        "launch", "two-step", "--topic", "x", "--budget-usd", "0.10", check=True
    ).stdout.strip()
    _wait_for(
        lambda: any(e["run_id"] == run_id and e["status"] == "NEEDS_APPROVAL" for e in _inbox(sf)),
        what="the budget gate",
    )
    sf.run("reject", run_id, "--reason", "too expensive", check=True)
    awaited = sf.run("launch", "two-step", "--id", run_id, "--await")
    assert awaited.returncode != 0
    assert "budget" in awaited.stderr and "too expensive" in awaited.stderr
    failed = [e for e in _inbox(sf) if e["run_id"] == run_id and e["status"] == "FAILED"]
    assert len(failed) == 1


def test_bad_launch_options_change_nothing(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    for argv, needle in (
        (("--budget-usd", "-2"), "--budget-usd"),
        (("--budget-usd", "lots"), "--budget-usd"),
        (("--timeout", "soon"), "--timeout"),
        (("--if-exists", "merge"), "--if-exists"),
        (("--pool", "no/such"), "Pool name"),
    ):
        proc = sf.run("launch", "two-step", "--topic", "x", *argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    runs_dir = sf.home / "runs"
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_unknown_pool_is_refused(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    proc = sf.run("launch", "two-step", "--topic", "x", "--pool", "gpu")
    assert proc.returncode == 2
    assert "sagaflow worker run --pool gpu" in proc.stderr
    assert not any((sf.home / "runs").iterdir())


def test_timeout_fails_the_run_cleanly(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model, config="")
    fake_model.latency(30)
    proc = sf.run("launch", "two-step", "--topic", "x", "--timeout", "3s", "--await")
    assert proc.returncode != 0
    assert "timed out after 3s" in proc.stderr
    run_id = next(e["run_id"] for e in _inbox(sf) if e["status"] == "FAILED")
    assert "timed out" in next(e for e in _inbox(sf) if e["run_id"] == run_id)["summary"]


def test_if_exists_policies(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model, config="")
    first = sf.run("launch", "two-step", "--topic", "x", "--id", "job-1", "--await", check=True)
    assert "ok + ok" in first.stdout
    failed = sf.run("launch", "two-step", "--topic", "x", "--id", "job-1", "--if-exists", "fail")
    assert failed.returncode == 2 and "already exists" in failed.stderr
    attached = sf.run(
        "launch", "two-step", "--topic", "x", "--id", "job-1", "--if-exists", "attach", "--await"
    )
    assert attached.returncode == 0 and "ok + ok" in attached.stdout
    assert fake_model.calls("step about") == 2
    replaced = sf.run(
        "launch", "two-step", "--topic", "y", "--id", "job-1", "--if-exists", "replace", "--await"
    )
    assert replaced.returncode == 0, replaced.stderr
    assert fake_model.calls("step about y") == 2
    record = json.loads((sf.home / "runs" / "job-1" / "run.json").read_text())
    assert record["args"] == {"topic": "y"}


def test_doctor_reports_search_attributes(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.run("launch", "hello-world", "--name", "x", "--await", check=True)
    checks = json.loads(sf.run("doctor", "--json").stdout)
    found = next(c for c in checks if c["name"] == "search attributes")
    assert found["level"] == "OK" and "SagaflowSkill" in found["detail"]


def test_await_shows_steps_of_a_long_run(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model, config="")
    fake_model.latency(1.5)
    proc = sf.run("launch", "two-step", "--topic", "x", "--await", check=True)
    assert "ok + ok" in proc.stdout
    assert "spawn_subagent(first) completed" in proc.stderr
    assert "write_artifact" in proc.stderr
