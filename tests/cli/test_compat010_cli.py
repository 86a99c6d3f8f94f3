"""A skill written the sagaflow 0.10 way runs unchanged (tests/skills/legacy-010), through the
CLI against the dev server and the fake Messages API: WorkflowState, load_claude_skill_prompt,
an output_schema call (valid, repaired, failing), run_shell, write_artifact append, Slack
progress (recorded, and posted to a webhook), finalize_manifest, TASK_QUEUE, free text as
``_extra``, activities called by name without being listed in the SkillSpec."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox, one_line_failure

GOOD = 'Here it is:\n```json\n{"TITLE": "Good", "POINTS": ["alpha", "beta"]}\n```'


@pytest.fixture
def legacy(sf: Sandbox, fake_model: FakeAnthropic) -> Sandbox:
    sf.install_skill("legacy-010")
    fake_model.add_reply(r"Analyse: good", GOOD)
    fake_model.add_reply(r"(?s)Analyse: fixable.*--- REPAIR ---", '{"TITLE": "Fixed", "POINTS": ["x"]}')
    fake_model.add_reply(r"Analyse: fixable", '{"TITLE": "Fixable", "POINTS": []}')
    fake_model.add_reply(r"Analyse: hopeless", '{"TITLE": "Hopeless"}')
    return sf


def _launch(sf: Sandbox, *words: str, **env: str) -> dict:
    proc = sf.run("launch", "legacy-010", *words, "--await", "--json", check=True, **env)
    return dict(json.loads(proc.stdout))


def _calls(fake: FakeAnthropic, needle: str) -> list[dict]:
    return [r for r in fake.requests if needle in str(r["text"])]


def test_a_010_skill_runs_unchanged(legacy: Sandbox, fake_model: FakeAnthropic) -> None:
    out = _launch(legacy, "good", "topic")
    run_id, run_dir = out["run_id"], legacy.home / "runs" / out["run_id"]
    # free text reached build_input as _extra; run_shell ran in the run dir on TASK_QUEUE
    assert out["result"].startswith(f"Good: 2 points; shell exit 0 shell-ran-in {run_id};")
    assert "timed_out=False" in out["result"] and "estimate $0.0015" in out["result"]
    assert (run_dir / "report.md").read_text() == "# Good\n- alpha\n- beta\n"  # append=True
    calls = _calls(fake_model, "Analyse: good")
    assert len(calls) == 1
    system = json.dumps(calls[0]["json"]["system"])
    assert "Be terse." in system and "OUTPUT FORMAT" in system  # 0.10 prompt + the schema
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "COMPLETED" and manifest["termination"] == {"label": "done"}
    assert [s["role"] for s in manifest["steps"]] == ["analyst"]
    assert "report.md" in manifest["artifacts"]
    slack = [json.loads(line) for line in (run_dir / "slack.jsonl").read_text().splitlines()]
    assert [(m["kind"], m["posted"]) for m in slack] == [("progress", False), ("artifact", False)]
    assert "- alpha" in slack[1]["text"]
    inbox = (legacy.home / "INBOX.md").read_text()
    assert run_id in inbox and "Good: 2 points" in inbox


def test_output_schema_repair_turn(legacy: Sandbox, fake_model: FakeAnthropic) -> None:
    out = _launch(legacy, "fixable")
    assert out["result"].startswith("Fixed: 1 points")
    calls = _calls(fake_model, "Analyse: fixable")
    assert len(calls) == 2  # the first reply and exactly one repair turn
    assert "should be non-empty" in calls[1]["text"]
    steps = legacy.home / "runs" / out["run_id"] / "steps"
    assert [p.name for p in steps.glob("*.rejected.response.md")]
    record = json.loads(next(p for p in steps.glob("*-analyst.json")).read_text())
    assert record["usage"]["input_tokens"] > 0


def test_output_schema_violation_fails_once_without_retry(
    legacy: Sandbox, fake_model: FakeAnthropic
) -> None:
    proc = legacy.run("launch", "legacy-010", "hopeless", "--await")
    one_line_failure(proc, 1, "output_schema", "'POINTS' is a required property")
    assert len(_calls(fake_model, "Analyse: hopeless")) == 2  # not retried: no third paid call


class _Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: ClassVar[list[dict]] = []
    handler = type("Hook", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()


def test_slack_webhook_and_shell_timeout(
    legacy: Sandbox, webhook: tuple[str, list[dict]]
) -> None:
    url, received = webhook
    legacy.env["SAGAFLOW_SLACK_WEBHOOK_URL"] = url  # the worker reads it when it starts
    out = _launch(legacy, "good", "--shell", "echo started; sleep 30")
    assert "shell exit 124" in out["result"] and "timed_out=True" in out["result"]
    assert len(received) == 2 and "legacy-010: good" in received[0]["text"]
    log = Path(legacy.home / "runs" / out["run_id"] / "slack.jsonl").read_text().splitlines()
    assert [json.loads(line)["posted"] for line in log] == [True, True]


def test_free_text_for_a_skill_that_takes_none(sf: Sandbox) -> None:
    one_line_failure(
        sf.run("launch", "hello-world", "some", "words"), 2, "takes no free text", "--name",
    )
    sf.install_skill("legacy-010")
    shown = json.loads(sf.run("skills", "legacy-010", "--json", check=True).stdout)
    assert shown["arguments"]["free_text"] is True and shown["arguments"]["optional"] == []
