"""The flow helpers through a real run: ``launch --await`` on the dev server.

One test skill (tests/skills/flow-mix) uses parallel, loop_until, route, sleep, child
and ask_model in one run; the fake model (or its replies.yaml) answers.
"""

from __future__ import annotations

import json

from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure

EXPECTED = {
    "notes": ["style ok", "facts ok", "tone ok"], "draft": "second draft",
    "verdict": "shipped", "child": {"summary": "about tides"},
}


def _script(fake: FakeAnthropic) -> None:
    block = "STRUCTURED_OUTPUT_START\n{}\nSTRUCTURED_OUTPUT_END"
    fake.add_reply(r"Critic (?P<c>\w+): ", block.format("VERDICT|ship\nNOTE|$c ok"))
    fake.add_reply(r"round 1", block.format("GOOD|no\nDRAFT|first draft"))
    fake.add_reply(r"Refine .* round", block.format("GOOD|yes\nDRAFT|second draft"))
    fake.add_reply(r"Summarize (?P<t>.+)", block.format("SUMMARY|about $t"))


def test_one_run_uses_every_helper_and_its_child_is_a_run(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("flow-mix")
    _script(fake_model)
    done = sf.run("launch", "flow-mix", "--topic", "tides", "--await", "--json", check=True)
    result = json.loads(done.stdout)
    assert result["result"] == EXPECTED, result
    rows = json.loads(sf.run("list", "--json", check=True).stdout)
    assert sorted(r["status"] for r in rows) == ["completed", "completed"], rows
    child = next(r for r in rows if r["run_id"] != result["run_id"])
    shown = json.loads(sf.run("show", str(child["run_id"]), "--json", check=True).stdout)
    assert shown["result"] == {"summary": "about tides"}
    entries = json.loads(sf.run("inbox", "--json", "--all", check=True).stdout)
    assert {e["run_id"] for e in entries} == {result["run_id"], child["run_id"]}
    # 3 critics + 2 refine rounds + the child's call, each prompt sent as typed
    texts = sorted(r["text"] for r in fake_model.requests)
    assert texts == sorted([*(f"Critic {c}: tides" for c in ("style", "facts", "tone")),
                            "Refine tides round 1", "Refine tides round 2", "Summarize tides"])


def test_the_same_run_offline_on_its_scripted_replies(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    sf.install_skill("flow-mix")
    done = sf.run("launch", "flow-mix", "--topic", "tides", "--transport", "scripted",
                  "--await", "--json", check=True)
    assert json.loads(done.stdout)["result"] == EXPECTED


def test_an_undeclared_route_key_fails_the_run_in_one_sentence(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    sf.install_skill("flow-mix")
    fake_model.add_reply(r"Critic style", "STRUCTURED_OUTPUT_START\nVERDICT|maybe\nNOTE|x\n"
                                          "STRUCTURED_OUTPUT_END")
    _script(fake_model)
    failed = sf.run("launch", "flow-mix", "--topic", "tides", "--await")
    [row] = json.loads(sf.run("list", "--json", check=True).stdout)
    run_id = str(row["run_id"])
    reason = ("route key 'maybe' is not declared; declared: hold, ship (add a branch for it "
              "or pass default=).")
    one_line_failure(failed, 1, reason)
    assert json.loads(sf.run("show", run_id, "--json", check=True).stdout)["failure"] == reason
    [entry] = [e for e in json.loads(sf.run("inbox", "--json", check=True).stdout)
               if e["run_id"] == run_id]
    assert (entry["status"], entry["summary"]) == ("FAILED", reason)
