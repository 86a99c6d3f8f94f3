"""A failing case points at the first difference, even past the first 80 characters."""

from __future__ import annotations

from sagaflow.authoring.cases import Expect
from sagaflow.authoring.expect import Observed, differences, mismatch
from sagaflow.inbox_format import Entry

LONG = "a very long topic about the many creatures living in tide pools along the coast, in short"


def test_a_long_text_shows_where_it_parts() -> None:
    found = differences(Expect(result=LONG + " a summarY.", has_result=True),
                        Observed("r1", "DONE", result=LONG + " a summary."))
    assert found == ['result: differs at character 99: expected "…pools along the coast, in '
                     'short a summarY.", got "…pools along the coast, in short a summary."']


def test_a_mapping_names_the_key_path_of_the_first_difference() -> None:
    expected = {"title": "t", "items": [{"name": "kelp"}, {"name": "crab" + "x" * 90}]}
    got = {"title": "t", "items": [{"name": "kelp"}, {"name": "crab" + "x" * 90 + "!"}]}
    assert mismatch("result", expected, got).startswith(
        "result.items[1].name: expected 94 characters, got 95, the same up to character 94")
    big = {"notes": "n" * 90}
    assert mismatch("result", {**big, "b": 2}, big) == (
        "result: expected key 'b', missing (got keys [\"notes\"])")
    assert mismatch("result", big, {**big, "c": 2}) == "result: unexpected key 'c' (2)"
    assert mismatch("result", ["x" * 90, 2], ["x" * 90, 2, 3]) == (
        "result: expected 2 items, got 3")
    assert mismatch("result", [1, 2], [1, 2, 3]) == "result: expected [1, 2], got [1, 2, 3]"
    assert mismatch("result", 5, "5") == 'result: expected 5, got "5"'


def test_an_inbox_summary_differing_late_is_shown_where_it_differs() -> None:
    entry = Entry(run_id="r1", status="DONE", skill="s", summary=LONG + " the end.",
                  timestamp="2026-01-01T00:00:00+00:00")
    found = differences(Expect(inbox={"summary": LONG + " the END."}),
                        Observed("r1", "DONE", inbox=entry))
    assert found[0].startswith("inbox.summary: differs at character 95: ")
    assert found[0].endswith('got "…ide pools along the coast, in short the end."')


def test_a_failed_run_counts_the_differences_it_brings_instead_of_listing_them() -> None:
    from pathlib import Path

    from sagaflow.authoring.cases import Case
    from sagaflow.authoring.suite import CaseResult

    expect = Expect(status="DONE", result="x", has_result=True, model_calls=1,
                    inbox={"status": "DONE"}, steps=["emit_finding"], error_contains="nope")
    seen = Observed("r1", "FAILED", error="step spawn_subagent failed: boom",
                    inbox=Entry(run_id="r1", status="FAILED", skill="s", summary="boom",
                                timestamp="2026-01-01T00:00:00+00:00"))
    result = CaseResult(Case(name="c", path=Path("c.yaml")), differences(expect, seen), 0.5, seen)
    assert result.line() == (
        "FAIL  c  0.50 s  status: expected DONE, got FAILED (step spawn_subagent failed: boom); "
        'error: expected it to contain "nope", got "step spawn_subagent failed: boom"; '
        "steps: expected emit_finding in this order; the run scheduled no step; "
        "3 more differences that follow from it (result, inbox.status, model_calls; -v lists "
        "them)")
    assert "result: expected \"x\", got null" in result.line(full=True)
    assert len(result.to_dict()["problems"]) == 6
