"""Entries that ask for an action close when the run stops waiting; cancel and pause keep why.

Issue 8 items 3 and 4 through the real CLI (dev server, fake Anthropic API): a run parked
on an approval that is cancelled, terminated (by sagaflow, or behind its back), or
replaced leaves no unread NEEDS APPROVAL entry and no approve command in the hook; a
cancel during a model call ends CANCELLED with the user's reason; ``pause --reason`` is
shown by ``show`` and ``list --json``.
"""

from __future__ import annotations

import json
from typing import Any

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure
from temporalio.client import Client
from test_inbox_hardening import hook
from test_steer import _client_call, launch_flaky, launch_gated, outcome, wait_for, wait_pending

from sagaflow import inbox


def _entries(sf: Sandbox, run_id: str) -> list[dict[str, Any]]:
    entries = json.loads(sf.run("inbox", "--all", "--json", check=True).stdout)
    return [e for e in entries if e["run_id"] == run_id]


def _status(sf: Sandbox, run_id: str, status: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((e for e in _entries(sf, run_id) if e["status"] == status), None)

    return wait_for(found, f"a {status} entry of {run_id}", timeout=60)  # type: ignore[no-any-return]


def _parked(sf: Sandbox, *args: str) -> str:
    if (sf.user_skills / "gated").is_dir():
        run_id = sf.run("launch", "gated", *args, check=True).stdout.strip()
    else:
        run_id = launch_gated(sf, *args)
    wait_pending(sf, run_id)
    assert _status(sf, run_id, "NEEDS_APPROVAL")["unread"]
    return run_id


def _nothing_waits(sf: Sandbox, run_id: str) -> None:
    """No unread entry of the run asks for an action, and the hook offers no approve command."""
    assert not [e for e in _entries(sf, run_id) if e["status"] == "NEEDS_APPROVAL" and e["unread"]]
    assert f"approve {run_id}" not in json.dumps(hook(sf) or {})


def test_terminate_retires_the_approval_and_records_why(sf: Sandbox) -> None:
    run_id = _parked(sf)
    sf.run("terminate", run_id, "--reason", "wrong draft", check=True)
    _nothing_waits(sf, run_id)
    ended = _status(sf, run_id, "TERMINATED")
    assert (ended["summary"], ended["unread"]) == ("terminated: wrong draft", False)
    assert run_id not in sf.run("inbox", check=True).stdout  # nothing unread is left


def test_cancel_at_a_gate_retires_it_and_keeps_the_reason(sf: Sandbox) -> None:
    run_id = _parked(sf)
    sf.run("cancel", run_id, "--reason", "changed my mind", check=True)
    assert outcome(sf, run_id)[0] == "canceled"
    cancelled = _status(sf, run_id, "CANCELLED")
    assert cancelled["summary"] == "cancelled: changed my mind; compensations (if any) ran"
    _nothing_waits(sf, run_id)
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["failure"] == "the run was cancelled: changed my mind"


def _terminate_by_hand(sf: Sandbox, run_id: str) -> None:
    """Terminate the run with Temporal's client, as ``temporal workflow terminate`` would."""
    async def go(client: Client) -> None:
        await client.get_workflow_handle(run_id).terminate(reason="by hand")

    _client_call(sf, go)


def _waiting_in_file(sf: Sandbox, run_id: str) -> bool:
    """Whether INBOX.md holds an unread NEEDS APPROVAL entry of the run (read directly:
    ``sagaflow inbox`` would check the run first)."""
    entries, _ = inbox.read(sf.home / "INBOX.md")
    return any(e.run_id == run_id and e.status == "NEEDS_APPROVAL" and e.unread for e in entries)


def test_a_termination_behind_sagaflows_back_is_noticed(sf: Sandbox) -> None:
    runs = [_parked(sf) for _ in range(3)]
    for run_id in runs:
        _terminate_by_hand(sf, run_id)
        assert _waiting_in_file(sf, run_id)  # no sagaflow code ran
    first, second, third = runs
    # the approve command the inbox offered fails once, and the entry stops offering it
    one_line_failure(sf.run("approve", first), 2, "already finished (terminated)")
    assert not _waiting_in_file(sf, first) and _waiting_in_file(sf, second)
    # show and list check the runs whose entries wait; so does inbox before it prints
    sf.run("show", second, check=True)
    assert not _waiting_in_file(sf, second) and _waiting_in_file(sf, third)
    shown = sf.run("inbox", check=True).stdout
    assert not _waiting_in_file(sf, third) and third not in shown
    ended = _status(sf, first, "TERMINATED")
    assert ended["summary"] == "terminated outside sagaflow; it no longer waits"
    for run_id in runs:
        _nothing_waits(sf, run_id)
    fourth = _parked(sf)
    _terminate_by_hand(sf, fourth)
    sf.run("list", check=True)
    assert not _waiting_in_file(sf, fourth)


def test_replacing_a_parked_run_retires_the_old_gate_only(sf: Sandbox) -> None:
    run_id = _parked(sf, "--id", "gate-r")
    sf.run("launch", "gated", "--id", run_id, "--if-exists", "replace", check=True)
    wait_for(lambda: len([e for e in _entries(sf, run_id)
                          if e["status"] == "NEEDS_APPROVAL"]) == 2, "the new gate's entry")
    entries = _entries(sf, run_id)  # the new gate and the TERMINATED entry may come in any order
    old, new = sorted((e for e in entries if e["status"] == "NEEDS_APPROVAL"),
                      key=lambda e: e["unread"])
    [replaced] = [e for e in entries if e["status"] == "TERMINATED"]
    assert entries[-1] == old
    assert (old["status"], old["unread"]) == ("NEEDS_APPROVAL", False)
    assert (replaced["status"], replaced["unread"], replaced["summary"]) == (
        "TERMINATED", False, "replaced by a new launch (--if-exists replace)")
    assert (new["status"], new["unread"]) == ("NEEDS_APPROVAL", True)
    assert new["note"].startswith("waiting on step publish · attempt 2 · Temporal run ")
    sf.run("approve", run_id, "--by", "carol", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by carol")
    done = _status(sf, run_id, "DONE")
    assert done["summary"] == "published: approved by carol" and "attempt 2" in done["note"]
    _nothing_waits(sf, run_id)


def test_cancel_during_a_model_call_is_cancelled_with_its_reason(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    run_id = launch_flaky(sf, fake_model, latency=30)
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step one")
    sf.run("cancel", run_id, "--reason", "wrong topic", check=True)
    assert outcome(sf, run_id)[0] == "canceled"
    cancelled = _status(sf, run_id, "CANCELLED")
    assert cancelled["summary"] == "cancelled: wrong topic; compensations (if any) ran"
    assert [e["status"] for e in _entries(sf, run_id)] == ["CANCELLED"]  # no FAILED entry
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "canceled"
    assert shown["failure"] == "the run was cancelled: wrong topic"
    fake_model.latency(0)


def test_pause_reason_is_shown(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    run_id = launch_flaky(sf, fake_model, latency=1.0)
    assert fake_model.wait_for_requests(1, timeout=60, pattern="Step one")
    sf.run("pause", run_id, "--reason", "lunch", "--by", "carol", check=True)

    def paused_row() -> dict[str, Any] | None:
        rows = json.loads(sf.run("list", "--json", check=True).stdout)
        row = next(r for r in rows if r["run_id"] == run_id)
        return row if row["state"] == "paused" else None

    row = wait_for(paused_row, "the run to show as paused")
    assert (row["paused"]["by"], row["paused"]["reason"]) == ("carol", "lunch")
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["paused"] == row["paused"]
    text = sf.run("show", run_id, check=True).stdout
    assert f"paused    by carol: lunch (since {row['paused']['at']})" in text
    fake_model.latency(0)
    sf.run("unpause", run_id, check=True)
    assert outcome(sf, run_id) == ("completed", "one + two + three")
    rows = json.loads(sf.run("list", "--json", check=True).stdout)
    assert next(r for r in rows if r["run_id"] == run_id)["paused"] is None


def test_a_retried_run_that_waits_again_asks_again(sf: Sandbox) -> None:
    run_id = _parked(sf)
    sf.run("cancel", run_id, "--reason", "not now", check=True)
    assert outcome(sf, run_id)[0] == "canceled"
    _nothing_waits(sf, run_id)
    plan = json.loads(sf.run("retry", run_id, "--json", check=True).stdout)
    wait_pending(sf, run_id)

    def fresh() -> dict[str, Any] | None:
        return next((e for e in _entries(sf, run_id)
                     if e["status"] == "NEEDS_APPROVAL" and e["unread"]), None)

    asking = wait_for(fresh, "a NEEDS APPROVAL entry of the retried execution")
    assert asking["note"].endswith(f"attempt 2 · Temporal run {plan['temporal_run']}")
    assert f"approve {run_id}" in json.dumps(hook(sf) or {})
    sf.run("approve", run_id, "--by", "dan", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by dan")
    _nothing_waits(sf, run_id)


def test_a_retry_after_a_rejection_asks_again(sf: Sandbox) -> None:
    """The reset re-applied the reject (an update after the reset point), so the retried
    run failed at once with the same reason: a retry that could never work."""
    run_id = _parked(sf)
    sf.run("reject", run_id, "--reason", "not today", check=True)
    status, reason = outcome(sf, run_id)
    assert status == "failed" and "not today" in reason
    sf.run("retry", run_id, check=True)
    wait_pending(sf, run_id)  # parked on the gate again, not failed
    sf.run("approve", run_id, "--by", "eve", check=True)
    assert outcome(sf, run_id) == ("completed", "published: approved by eve")
