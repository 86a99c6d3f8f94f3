"""The bundled examples run for real: `launch --await --transport scripted` on a dev server.

book-trip waits at its approval gate until `sagaflow approve` answers it; critique and
refine need no answer. Their offline cases are tests/unit/test_examples.py's business.
"""

from __future__ import annotations

import json
import time

from sandbox import Sandbox


def _wait_for_gate(sf: Sandbox, run_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 90
    last = ""
    while time.monotonic() < deadline:
        # until the launch running beside us has set up the server (its search
        # attributes), list may refuse: ask again
        listed = sf.run("list", "--waiting", "--json")
        rows = json.loads(listed.stdout) if listed.returncode == 0 else []
        last = listed.stderr
        row = next((r for r in rows if r["run_id"] == run_id), None)
        if row is not None:
            return dict(row)
        time.sleep(0.3)
    raise AssertionError(f"{run_id} never waited at its gate; last list: {last}")


def test_book_trip_waits_for_approval_then_books(sf: Sandbox) -> None:
    launch = sf.popen("launch", "book-trip", "--destination", "Lisbon", "--id", "trip-1",
                      "--await", "--transport", "scripted")
    row = _wait_for_gate(sf, "trip-1")
    assert row["waiting"] == "approval:book", row
    ledger = sf.home / "runs" / "trip-1" / "trip.json"
    assert {e["state"] for e in json.loads(ledger.read_text()).values()} == {"held"}
    sf.run("approve", "trip-1", "--step", "book", check=True)
    stdout, stderr = launch.communicate(timeout=120)
    assert launch.returncode == 0, stderr
    assert stdout.strip() == "booked FLIGHT-57f2f9, HOTEL-ee1a44 to Lisbon for 1240 EUR"
    booked = json.loads(ledger.read_text())
    assert sorted((e["kind"], e["state"]) for e in booked.values()) == [
        ("flight", "booked"), ("hotel", "booked")]


def test_critique_and_refine_run_to_their_results(sf: Sandbox) -> None:
    critique = sf.run("launch", "critique", "--text", "Remote work makes teams more productive.",
                      "--await", "--json", "--transport", "scripted", check=True)
    verdict = json.loads(critique.stdout)["result"]
    assert verdict["decision"] == "revise" and verdict["critics"] == {
        "clarity": "7", "evidence": "4", "audience": "8"}
    refine = sf.run("launch", "refine", "--topic", "tide pools", "--await", "--json",
                    "--transport", "scripted", check=True)
    final = json.loads(refine.stdout)["result"]
    assert (final["score"], final["rounds"], final["reached_target"]) == (9, 2, True)


def test_sagaflow_test_of_each_example_passes_without_noise(sf: Sandbox) -> None:
    for name in ("critique", "refine", "book-trip"):
        proc = sf.run("test", name)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.strip().splitlines()[-1].startswith("3 passed, 0 failed")
        # critique's critic-fails case fails a step on purpose: no SDK traceback for it
        assert "Traceback" not in proc.stderr and "Completing activity" not in proc.stderr
