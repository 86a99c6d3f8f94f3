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
