"""The core user stories, through the real CLI against real Temporal."""

from __future__ import annotations

import json
import shutil
import time

from fake_anthropic import FakeAnthropic
from sandbox import REPO, Sandbox

from sagaflow import inbox


def test_launch_await_prints_greeting(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    proc = sf.run("launch", "hello-world", "--name", "alice", "--await", check=True)
    assert proc.stdout.strip() == "hello, alice"
    assert "run hello-world-" in proc.stderr
    assert fake_model.calls("Greet alice") == 1
    request = fake_model.requests[-1]
    assert request["json"]["model"] == "claude-haiku-4-5"
    assert request["json"]["stream"] is True
    assert "sk-test-not-a-real-key" not in json.dumps(request["json"])
    # the full reply and token usage are kept in the run dir, not in history
    run_id = proc.stderr.split("run ", 1)[1].split()[0]
    steps = list((sf.home / "runs" / run_id / "steps").glob("*.json"))
    meta = json.loads(steps[0].read_text())
    assert meta["usage"]["output_tokens"] > 0
    with open(meta["response_path"]) as fh:
        assert "GREETING|hello, alice" in fh.read()
    for path in (sf.home / "runs" / run_id).rglob("*"):
        if path.is_file():
            assert "sk-test-not-a-real-key" not in path.read_text(errors="ignore")


def test_fire_and_forget_then_inbox_then_dismiss(sf: Sandbox) -> None:
    run_id = sf.run("launch", "hello-world", "--name", "bob", check=True).stdout.strip()
    assert run_id.startswith("hello-world-")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not inbox.has_entry(sf.home / "INBOX.md", run_id):
        time.sleep(0.2)
    listed = json.loads(sf.run("inbox", "--json", check=True).stdout)
    assert [(e["run_id"], e["status"], e["summary"]) for e in listed] == [
        (run_id, "DONE", "hello, bob")
    ]
    human = sf.run("inbox", check=True).stdout
    assert run_id in human and "hello, bob" in human
    assert sf.run("dismiss", run_id, check=True).stdout.strip() == run_id
    assert json.loads(sf.run("inbox", "--json", check=True).stdout) == []
    everything = json.loads(sf.run("inbox", "--all", "--json", check=True).stdout)
    assert everything[0]["unread"] is False
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed" and shown["result"] == "hello, bob"
    assert shown["args"] == {"name": "bob"} and shown["steps_done"] == 3
    listed_runs = json.loads(sf.run("list", "--json", check=True).stdout)
    assert [r["run_id"] for r in listed_runs] == [run_id]
    assert json.loads(sf.run("list", "--status", "running", "--json", check=True).stdout) == []


def test_auth_failure_gives_failed_entry_and_clear_message(
    sf: Sandbox, fake_model: FakeAnthropic
) -> None:
    fake_model.inject(401, count=5, message="invalid x-api-key")
    proc = sf.run("launch", "hello-world", "--name", "carol", "--await")
    assert proc.returncode == 1
    assert "HTTP 401" in proc.stderr and "invalid x-api-key" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert fake_model.calls(include_faults=True) == 1  # non-retryable: one attempt
    entries, _ = inbox.read(sf.home / "INBOX.md")
    assert [e.status for e in entries] == ["FAILED"]
    assert "401" in entries[0].summary


def test_transient_errors_are_retried(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    fake_model.inject(429, retry_after=0.5)
    fake_model.inject(529)
    fake_model.inject(500)
    proc = sf.run("launch", "hello-world", "--name", "dave", "--await", check=True)
    assert proc.stdout.strip() == "hello, dave"
    assert fake_model.calls(include_faults=True) == 4
    assert fake_model.calls() == 1


def test_seed_skill_runs_unchanged_from_user_skills(sf: Sandbox) -> None:
    # The user's copy of the README's skill shadows the bundled one.
    shutil.copytree(REPO / "skills" / "hello-world", sf.user_skills / "hello-world")
    skills = json.loads(sf.run("skills", "--json", check=True).stdout)
    mine = [s for s in skills if s["name"] == "hello-world" and s["status"] == "ok"]
    assert mine[0]["origin"] == "user"
    assert any(s["status"] == "shadowed" and s["origin"] == "bundled" for s in skills)
    proc = sf.run("launch", "hello-world", "--name", "erin", "--await", check=True)
    assert proc.stdout.strip() == "hello, erin"


def test_scripted_transport_needs_no_model(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    env = {"ANTHROPIC_API_KEY": "", "PATH": "/usr/bin:/bin"}
    proc = sf.run(
        "launch", "hello-world", "--name", "frank", "--await", "--transport", "scripted",
        check=True, **env,
    )
    assert proc.stdout.strip() == "hello, frank"
    assert "scripted" in proc.stderr
    assert fake_model.calls(include_faults=True) == 0
    entries, _ = inbox.read(sf.home / "INBOX.md")
    assert "scripted" in entries[0].note


def test_new_skill_is_picked_up_without_manual_steps(sf: Sandbox) -> None:
    sf.run("launch", "hello-world", "--name", "gil", "--await", check=True)
    first_pid = sf.worker_pid()
    sf.install_skill("two-step")
    fake = sf.run("launch", "two-step", "--topic", "tea", "--await", check=True)
    assert fake.stdout.strip().count("+") == 1
    assert "worker started" in fake.stderr  # a new skill is a new build: its own worker
    assert sf.worker_pid() != first_pid
    builds = {str(s["build"]) for s in sf.worker_states()}
    assert len(builds) == 2


def test_concurrent_launches_spawn_one_worker(sf: Sandbox) -> None:
    procs = [sf.popen("launch", "hello-world", "--name", f"p{i}") for i in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    ids = {out.strip() for out, _ in outputs}
    assert len(ids) == 4
    log = (sf.home / "logs" / "worker.log").read_text()
    assert log.count("polling") == 1


def test_failed_skill_is_reported_and_others_still_run(sf: Sandbox) -> None:
    sf.install_skill("broken-syntax")
    sf.install_skill("broken-register")
    skills = {s["name"]: s for s in json.loads(sf.run("skills", "--json", check=True).stdout)}
    assert skills["broken-syntax"]["status"] == "error"
    assert "syntax error" in skills["broken-syntax"]["error"]
    assert "database not configured" in skills["broken-register"]["error"]
    proc = sf.run("launch", "hello-world", "--name", "hal", "--await", check=True)
    assert proc.stdout.strip() == "hello, hal"
    bad = sf.run("launch", "broken-register")
    assert bad.returncode == 1 and "database not configured" in bad.stderr
    doctor = json.loads(sf.run("doctor", "--json").stdout)
    assert any(c["name"] == "skill broken-syntax" and c["level"] == "WARN" for c in doctor)


def test_json_output_of_launch(sf: Sandbox) -> None:
    data = json.loads(
        sf.run("launch", "hello-world", "--name", "ivy", "--await", "--json", check=True).stdout
    )
    assert data["result"] == "hello, ivy" and data["status"] == "completed"
    assert data["transport"] == "anthropic" and data["run_id"].startswith("hello-world-")


def test_first_launch_installs_hook_once(sf: Sandbox) -> None:
    first = sf.run("launch", "hello-world", "--name", "jo", "--await", check=True)
    assert "SessionStart hook" in first.stderr
    settings = json.loads((sf.user_skills.parent / "settings.json").read_text())
    commands = [h["command"] for g in settings["hooks"]["SessionStart"] for h in g["hooks"]]
    assert any("session_start.py" in c for c in commands)
    second = sf.run("launch", "hello-world", "--name", "jo", "--await", check=True)
    assert "SessionStart hook" not in second.stderr
    status = json.loads(sf.run("hook", "status", "--json", check=True).stdout)
    assert status["installed"] and status["current"]


def test_no_hook_env_skips_install(sf: Sandbox) -> None:
    sf.run("launch", "hello-world", "--name", "kim", "--await", check=True, SAGAFLOW_NO_HOOK="1")
    assert not (sf.user_skills.parent / "settings.json").exists()


def test_ctrl_c_while_awaiting_detaches(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    import signal

    fake_model.latency(4)
    proc = sf.popen("launch", "hello-world", "--name", "lee", "--await", "--id", "detach-1")
    assert fake_model.wait_for_requests(1, timeout=60)
    proc.send_signal(signal.SIGINT)  # the launch process this test started
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "detached" in stderr and "detach-1" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not inbox.has_entry(sf.home / "INBOX.md", "detach-1"):
        time.sleep(0.2)
    entries, _ = inbox.read(sf.home / "INBOX.md")
    assert [(e.run_id, e.summary) for e in entries] == [("detach-1", "hello, lee")]
