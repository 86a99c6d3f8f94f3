"""Typed payloads and payloads stored outside history, through the real CLI.

A pydantic skill (tests/skills/typed-review) launched with ``--await`` and shown; a run
whose 200 KB input and result are kept under ``<home>/payloads``, shown and tailed, and
shown again once those files are gone; an input over Temporal's limit is refused only
when storing is off, and ``purge`` deletes a run's stored payloads.
"""

from __future__ import annotations

import json

from sandbox import Sandbox

DOCUMENT = ("typed payloads stay small in history " * 6000)[:200_000]


def _show(sf: Sandbox, run_id: str) -> dict:
    return dict(json.loads(sf.run("show", run_id, "--json", check=True).stdout))


def test_a_pydantic_skill_awaited_shown_and_in_the_inbox(sf: Sandbox) -> None:
    sf.install_skill("typed-review")
    done = sf.run("launch", "typed-review", "--topic", "durable", "--id", "typed",
                  "--await", check=True)
    result = json.loads(done.stdout)
    assert result["topic"] == "durable" and result["scores"] == [
        {"name": "clarity", "value": 7.0}, {"name": "depth", "value": 3.5}]
    shown = _show(sf, "typed")
    assert shown["status"] == "completed" and shown["result"] == result
    steps = [s["type"] for s in shown["steps"]]
    assert "score_review" in steps
    inbox = sf.run("inbox", "--json", check=True).stdout
    [entry] = [e for e in json.loads(inbox) if e["run_id"] == "typed"]
    assert '"topic": "durable"' in entry["summary"]


def test_a_large_payload_run_is_stored_outside_history_and_shown(sf: Sandbox) -> None:
    sf.install_skill("typed-review")
    doc = sf.root / "doc.txt"
    doc.write_text(DOCUMENT, encoding="utf-8")
    done = sf.run("launch", "typed-review", "--topic", "big", "--file", str(doc), "--id", "big",
                  "--await", check=True)
    assert json.loads(done.stdout)["echo"] == DOCUMENT
    folder = sf.home / "payloads" / "default" / "big"
    blobs = sorted(folder.iterdir())
    assert len(blobs) == 2 and all(b.stat().st_mode & 0o077 == 0 for b in blobs)
    shown = _show(sf, "big")
    assert shown["result"]["echo"] == DOCUMENT
    text = sf.run("show", "big", check=True).stdout
    assert "completed" in text
    tail = sf.run("tail", "big", "--json", check=True).stdout  # a closed run: its events
    assert any(json.loads(line).get("event") == "run_finished" for line in tail.splitlines())

    for blob in blobs:
        blob.unlink()
    shown = _show(sf, "big")  # still shown; the result says where it was and why not
    assert shown["status"] == "completed"
    assert shown["result"].startswith("(stored outside history: 195.")
    assert "is missing" in shown["result"] and str(folder) in shown["result"]


def test_an_input_over_temporals_limit_is_stored_unless_storing_is_off(sf: Sandbox) -> None:
    sf.install_skill("typed-review")
    big = sf.root / "big.txt"
    big.write_text("word " * (600 * 1024), encoding="utf-8")  # 3 MB
    refused = sf.run("launch", "typed-review", "--topic", "t", "--file", str(big),
                     "--id", "refused", SAGAFLOW_PAYLOAD_STORE_KIB="off", SAGAFLOW_NO_HOOK="1")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "'document'" in line and "Temporal accepts" in line and "by path" in line
    done = sf.run("launch", "typed-review", "--topic", "t", "--file", str(big), "--id", "kept",
                  "--await", check=True)
    assert json.loads(done.stdout)["words"] == 600 * 1024
    kept = sf.home / "payloads" / "default" / "kept"
    assert kept.is_dir()
    purged = json.loads(sf.run("purge", "--older-than", "0s", "--yes", "--json",
                               check=True).stdout)
    assert purged["deleted"]["runs"] == 1 and not kept.exists()  # its payloads go with it
