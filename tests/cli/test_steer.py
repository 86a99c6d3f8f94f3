"""Steering runs through the CLI: approve, reject, gate timeouts, cancel, terminate, pause, signal."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError

from sagaflow._engine import meta
from sagaflow._engine.control_types import Gate, RunStatus
from sagaflow._engine.failures import failure_reason
from sagaflow.errors import UsageError
from sagaflow.runs.steer import parse_payload, pick_gate

STEP_REPLY = "STRUCTURED_OUTPUT_START\nRESULT|$n\nSTRUCTURED_OUTPUT_END"


# -- helpers ---------------------------------------------------------------------------------


def _client_call(sf: Sandbox, fn: Any) -> Any:
    async def go() -> Any:
        client = await Client.connect(sf.env["TEMPORAL_ADDRESS"])
        return await fn(client)

    return asyncio.run(go())


def wait_for(predicate: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run_status(sf: Sandbox, run_id: str) -> RunStatus | None:
    """The run's sagaflow_status answer, or None while it cannot answer."""
    async def query(client: Client) -> RunStatus | None:
        try:
            status: RunStatus = await client.get_workflow_handle(run_id).query(
                meta.QUERY_STATUS, result_type=RunStatus
            )
        except Exception:
            return None
        return status

    return _client_call(sf, query)  # type: ignore[no-any-return]


def wait_pending(sf: Sandbox, run_id: str) -> RunStatus:
    return wait_for(  # type: ignore[no-any-return]
        lambda: (s := run_status(sf, run_id)) is not None and s.pending and s, "an open gate"
    )


def outcome(sf: Sandbox, run_id: str, timeout: float = 60.0) -> tuple[str, Any]:
    """Wait for the run to close: (status, result or failure reason)."""
    async def result(client: Client) -> tuple[str, Any]:
        handle = client.get_workflow_handle(run_id)
        try:
            value = await asyncio.wait_for(handle.result(), timeout)
        except WorkflowFailureError as exc:
            desc = await handle.describe()
            return desc.status.name.lower() if desc.status else "?", failure_reason(exc.cause)
        return "completed", value

    return _client_call(sf, result)  # type: ignore[no-any-return]


def history_kinds(sf: Sandbox, run_id: str) -> list[tuple[str, str]]:
    """(event kind, activity name or '') of the run's history."""
    async def events(client: Client) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        scheduled: dict[int, str] = {}
        async for ev in client.get_workflow_handle(run_id).fetch_history_events():
            kind = ev.WhichOneof("attributes") or ""
            name = ""
            if kind == "activity_task_scheduled_event_attributes":
                name = ev.activity_task_scheduled_event_attributes.activity_type.name
                scheduled[ev.event_id] = name
            elif kind == "activity_task_completed_event_attributes":
                name = scheduled[ev.activity_task_completed_event_attributes.scheduled_event_id]
            found.append((kind.removesuffix("_event_attributes"), name))
        return found

    return _client_call(sf, events)  # type: ignore[no-any-return]


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sagaflow: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in proc.stderr
    return lines[0]


def launch_gated(sf: Sandbox, *args: str) -> str:
    sf.install_skill("gated")
    return sf.run("launch", "gated", *args, check=True).stdout.strip()


def launch_flaky(sf: Sandbox, fake_model: FakeAnthropic, latency: float) -> str:
    sf.install_skill("flaky-steps")
    fake_model.add_reply(r"Step (?P<n>\w+)", STEP_REPLY)
    fake_model.latency(latency)
    return sf.run("launch", "flaky-steps", check=True).stdout.strip()


# -- approval gates ---------------------------------------------------------------------------


def test_approve_gated_run_then_duplicate_is_refused(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    status = wait_pending(sf, run_id)
    assert [(g.step, g.kind) for g in status.pending] == [("publish", "approval")]
    proc = sf.run("approve", run_id, "--comment", "looks good", "--by", "alice", "--json",
                  check=True)
    shown = json.loads(proc.stdout)
    assert shown["action"] == "approved" and shown["step"] == "publish"
    assert shown["by"] == "alice" and shown["decision"]["approved"] is True
    assert outcome(sf, run_id) == ("completed", "published: approved by alice (looks good)")
    again = sf.run("approve", run_id, "--by", "alice")
    line = one_line_error(again, 2, run_id)
    assert "already finished (completed)" in line or "not waiting on an approval" in line


def test_approve_defaults_to_os_user_and_human_line(sf: Sandbox) -> None:
    import getpass

    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    proc = sf.run("approve", run_id, check=True)
    assert proc.stdout.strip() == f"approved publish of {run_id} (by {getpass.getuser()})"
    assert outcome(sf, run_id)[1] == f"published: approved by {getpass.getuser()}"


def test_reject_fails_run_with_reason(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    missing = sf.run("reject", run_id)  # --reason is required
    assert missing.returncode == 2 and "--reason" in missing.stderr
    proc = sf.run("reject", run_id, "--reason", "not before Monday", "--by", "bob", check=True)
    assert "rejected publish" in proc.stdout
    status, reason = outcome(sf, run_id)
    assert status == "failed"
    assert "publish rejected by bob: not before Monday" in reason


def test_approve_wrong_step_and_negative_budget(sf: Sandbox) -> None:
    bad = sf.run("approve", "whatever", "--extend-budget", "-1")
    one_line_error(bad, 2, "--extend-budget must be more than zero")
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    wrong = sf.run("approve", run_id, "--step", "deploy")
    one_line_error(wrong, 2, "does not wait on step 'deploy'", "publish")
    budget = sf.run("approve", run_id, "--extend-budget", "1.00")
    one_line_error(budget, 2, "not a budget")
    assert run_status(sf, run_id).pending  # type: ignore[union-attr]  # nothing changed
    sf.run("terminate", run_id, "--reason", "test over", check=True)


def test_gate_timeout_takes_its_default(sf: Sandbox) -> None:
    run_id = launch_gated(sf, "--arg", "timeout=2", "--arg", "default=approve")  # launch owns --timeout
    assert outcome(sf, run_id) == ("completed", "published: approved by timeout default")


def test_approve_run_that_waits_on_nothing_then_terminate(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    run_id = launch_flaky(sf, fake_model, latency=30)
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step one")
    proc = sf.run("approve", run_id)
    one_line_error(proc, 2, f"Run {run_id} is not waiting on an approval",
                   "it is running step spawn_subagent")
    assert sf.run("terminate", run_id).returncode == 2  # --reason is required
    done = sf.run("terminate", run_id, "--reason", "enough", "--json", check=True)
    assert json.loads(done.stdout)["action"] == "terminated"
    assert outcome(sf, run_id)[0] == "terminated"
    again = sf.run("terminate", run_id, "--reason", "twice")
    one_line_error(again, 2, "already finished (terminated); nothing to terminate")


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_runs_compensation_and_reports_cancelled(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    proc = sf.run("cancel", run_id, "--reason", "changed my mind", check=True)
    assert proc.stdout.startswith(f"cancel requested for {run_id}")
    status, _ = outcome(sf, run_id)
    assert status == "canceled"
    compensated = sf.home / "runs" / run_id / "compensated.txt"
    assert compensated.read_text() == "draft withdrawn"

    def cancelled_entry() -> bool:
        entries = json.loads(sf.run("inbox", "--all", "--json", check=True).stdout)
        return any(e["run_id"] == run_id and e["status"] == "CANCELLED" for e in entries)

    wait_for(cancelled_entry, "a CANCELLED inbox entry", timeout=20)
    again = sf.run("cancel", run_id)
    one_line_error(again, 2, f"Run {run_id} already finished (canceled); nothing to cancel")


def test_steering_unknown_run(sf: Sandbox) -> None:
    for args in (("cancel", "nope-1"), ("pause", "nope-1"), ("approve", "nope-1"),
                 ("signal", "nope-1", "go", "{}")):
        one_line_error(sf.run(*args), 1, "No run nope-1")


# -- pause -------------------------------------------------------------------------------------------


def test_pause_stops_before_next_step_until_unpaused(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    run_id = launch_flaky(sf, fake_model, latency=4.0)  # the pause lands during step one
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step one")
    proc = sf.run("pause", run_id, "--reason", "lunch", "--json", check=True)
    assert json.loads(proc.stdout)["action"] == "paused"
    fake_model.latency(0)
    one_line_error(sf.run("pause", run_id), 2, "already paused")

    def step_one_done() -> bool:
        return ("activity_task_completed", "spawn_subagent") in history_kinds(sf, run_id)

    wait_for(step_one_done, "step one to finish")
    time.sleep(1.0)  # a running run would have started step two's write by now
    scheduled = [k for k in history_kinds(sf, run_id) if k[0] == "activity_task_scheduled"]
    assert [name for _, name in scheduled] == ["write_artifact", "spawn_subagent"]
    assert fake_model.calls("Step two") == 0
    assert run_status(sf, run_id).paused  # type: ignore[union-attr]
    assert sf.run("unpause", run_id, check=True).stdout.strip() == f"unpaused {run_id}"
    assert outcome(sf, run_id) == ("completed", "one + two + three")
    assert fake_model.calls("Step two") == 1
    one_line_error(sf.run("unpause", run_id), 2, "already finished (completed)")


def test_a_run_paused_while_waiting_shows_the_pause(sf: Sandbox) -> None:
    """Paused while parked on a gate, the run stays 'waiting': show and list still say
    it is paused, by whom and why (the pause was recorded but shown nowhere)."""
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    sf.run("pause", run_id, "--reason", "lunch break", "--by", "ann", check=True)
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["waiting_on"] and shown["paused"]["reason"] == "lunch break"
    human = sf.run("show", run_id, check=True).stdout
    assert "paused    by ann: lunch break" in human
    assert "core_patch" not in human  # workflow.patched's marker is no framework step
    [row] = [r for r in json.loads(sf.run("list", "--json", check=True).stdout)
             if r["run_id"] == run_id]
    assert row["paused"]["by"] == "ann"
    assert "(paused)" in sf.run("list", check=True).stdout
    sf.run("unpause", run_id, check=True)
    assert json.loads(sf.run("show", run_id, "--json", check=True).stdout)["paused"] is None
    sf.run("terminate", run_id, "--reason", "test over", check=True)


def test_unpause_running_run_is_refused(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    one_line_error(sf.run("unpause", run_id), 2, f"Run {run_id} is not paused")
    sf.run("terminate", run_id, "--reason", "test over", check=True)


# -- signal --------------------------------------------------------------------------------------


def test_signal_bad_json_is_a_usage_error(sf: Sandbox) -> None:
    proc = sf.run("signal", "any-run", "go", "{bad json")
    one_line_error(proc, 2, "not valid JSON", "line 1 column 2")


def test_signal_reaches_a_running_run(sf: Sandbox) -> None:
    run_id = launch_gated(sf)
    wait_pending(sf, run_id)
    proc = sf.run("signal", run_id, "note", '{"text": "hi"}', "--json", check=True)
    assert json.loads(proc.stdout) == {
        "run_id": run_id, "action": "signalled", "signal": "note", "payload": {"text": "hi"}
    }
    names = [k for k, _ in history_kinds(sf, run_id)]
    assert "workflow_execution_signaled" in names
    sf.run("terminate", run_id, "--reason", "test over", check=True)
    one_line_error(sf.run("signal", run_id, "note"), 2, "already finished (terminated)")


# -- pure parts -------------------------------------------------------------------------------------


def _gate(step: str, kind: str = "approval") -> Gate:
    return Gate(step=step, kind=kind, prompt="?", opened_at="2026-01-01T00:00:00+00:00")


def test_pick_gate_messages() -> None:
    with pytest.raises(UsageError, match="not waiting on an approval; it is running step x"):
        pick_gate("r", RunStatus(), "", ["x"])
    with pytest.raises(UsageError, match="it is paused"):
        pick_gate("r", RunStatus(paused=True), "", [])
    two = RunStatus(pending=[_gate("a"), _gate("b")])
    with pytest.raises(UsageError, match="waits on steps a, b; pick one with --step"):
        pick_gate("r", two, "", [])
    assert pick_gate("r", two, "b", []).step == "b"
    with_budget = RunStatus(pending=[_gate("a"), _gate("budget", "budget")])
    assert pick_gate("r", with_budget, "", [], budget=True).step == "budget"


def test_parse_payload() -> None:
    assert parse_payload(None) == (False, None)
    assert parse_payload('{"a": [1, 2]}') == (True, {"a": [1, 2]})
    assert parse_payload("3") == (True, 3)
    with pytest.raises(UsageError, match="line 1 column 7"):
        parse_payload('{"a": }')


def test_describe_status_name() -> None:
    from sagaflow.runs.reach import status_name

    assert status_name(WorkflowExecutionStatus.CANCELED) == "canceled"
    assert status_name(None) == "unknown"


def test_no_worker_on_a_pool_queue_is_one_clear_line(
    temporal_address: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from sagaflow.config import Settings
    from sagaflow.errors import WorkerError
    from sagaflow.paths import Home
    from sagaflow.runs import reach, steer

    monkeypatch.setattr(reach, "RPC_TIMEOUT", 1.0)
    base = f"test-{uuid.uuid4().hex[:8]}"
    local = steer.Local(Home(tmp_path), Settings(address=temporal_address, task_queue=base))

    async def go(client: Client) -> str:
        run_id = f"nobody-{uuid.uuid4().hex[:8]}"
        await client.start_workflow(
            "GatedWorkflow", id=run_id, task_queue=meta.pool_queue(base, "gpu")
        )
        try:
            with pytest.raises(WorkerError) as caught:
                await steer.pause(client, run_id, local=local)
            return str(caught.value)
        finally:
            await client.get_workflow_handle(run_id).terminate(reason="test over")

    message = _client_call(Sandbox(tmp_path, {"TEMPORAL_ADDRESS": temporal_address}), go)
    assert message.startswith("No worker answered for run nobody-")
    assert f"on task queue {base}-pool-gpu within 1s" in message
    assert message.endswith("start one with 'sagaflow worker run --pool gpu'.")
    assert not (tmp_path / "worker").exists()  # no worker was started for a pool's run
