"""Model faults end the way they should, against the real dev server and the fake model
(issue 8, items 8-12): error events after HTTP 200, stop reasons, empty and cut replies,
payloads over Temporal's limits, claude -p login errors, a budget below one call."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

BLOCK = "STRUCTURED_OUTPUT_START\nRESULT|ok\nSTRUCTURED_OUTPUT_END"


def _setup(sf: Sandbox, fake: FakeAnthropic) -> None:
    sf.install_skill("two-step")
    fake.add_reply(r"step about", BLOCK)


def _launch(sf: Sandbox, *argv: str, **env: str) -> tuple[int, str, str]:
    proc = sf.run("launch", "two-step", "--await", *argv, timeout=180, **env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def _show(sf: Sandbox, run_id: str) -> dict[str, Any]:
    return dict(json.loads(sf.run("show", run_id, "--json", check=True).stdout))


def _model_steps(sf: Sandbox, run_id: str) -> list[dict[str, Any]]:
    return [s for s in _show(sf, run_id)["steps"] if s["type"] == "spawn_subagent"]


def _step_files(sf: Sandbox, run_id: str) -> list[dict[str, Any]]:
    steps = sf.home / "runs" / run_id / "steps"
    return [json.loads(p.read_text()) for p in sorted(steps.glob("*.json"))]


def test_error_events_after_200_are_classified_by_type(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    fake_model.inject_reply(error_type="overloaded_error")
    code, out, err = _launch(sf, "--topic", "a", "--id", "overloaded")
    assert code == 0 and "ok + ok" in out, err
    first = _model_steps(sf, "overloaded")[0]
    assert first["attempts"] >= 2 and first["status"] == "completed"  # retried

    fake_model.inject_reply(error_type="invalid_request_error")
    code, _, err = _launch(sf, "--topic", "b", "--id", "invalid")
    last = err.strip().splitlines()[-1]
    assert code != 0 and "invalid_request_error" in last and "in the reply stream" in last
    assert "will retry" not in last


def test_stop_reasons_are_recorded_and_judged(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    # refusal with empty content: fails at once, saying the model declined
    fake_model.inject_reply(stop_reason="refusal", text="")
    code, _, err = _launch(sf, "--topic", "a", "--id", "refused")
    assert code != 0 and "The model declined" in err
    [step] = _model_steps(sf, "refused")
    assert step["status"] == "failed" and "declined" in step["error"]
    assert step["stop_reason"] == "refusal"  # the failed step names why the model stopped
    shown = sf.run("show", "refused", check=True).stdout
    assert "stop_reason refusal" in shown and "paid $" in shown  # the paid call is costed
    [record] = _step_files(sf, "refused")  # one paid attempt: not retried
    assert record["stop_reason"] == "refusal" and "declined" in record["error"]

    # cut at max_tokens before the structured block: a clear step error, not retried
    fake_model.inject_reply(stop_reason="max_tokens", text="STRUCTURED_OUTPUT_START\nRESULT|o")
    code, _, err = _launch(sf, "--topic", "b", "--id", "truncated")
    assert code != 0 and "max_tokens=200 before its structured output block" in err
    [record] = _step_files(sf, "truncated")  # not retried (the skill did not ask)
    assert record["stop_reason"] == "max_tokens" and "retry_truncated is off" in record["error"]
    assert "max_tokens" in _model_steps(sf, "truncated")[0]["error"]  # what show prints
    assert _model_steps(sf, "truncated")[0]["stop_reason"] == "max_tokens"

    # max_tokens after a complete block: the step succeeds and show says why it stopped
    fake_model.inject_reply(stop_reason="max_tokens", text=BLOCK + "\nand then some")
    code, out, err = _launch(sf, "--topic", "c", "--id", "long")
    assert code == 0 and "ok + ok" in out, err
    stops = [s["stop_reason"] for s in _model_steps(sf, "long")]
    assert stops == ["max_tokens", "end_turn"]
    assert "stop_reason max_tokens" in sf.run("show", "long", check=True).stdout
    assert sorted(f["stop_reason"] for f in _step_files(sf, "long")) == ["end_turn", "max_tokens"]

    # an empty reply and a stream cut before message_stop are retried
    fake_model.inject_reply(text="")
    fake_model.inject_reply(cut=True)
    code, out, err = _launch(sf, "--topic", "d", "--id", "retried")
    assert code == 0 and "ok + ok" in out, err
    assert _model_steps(sf, "retried")[0]["attempts"] >= 3
    failed = [f for f in _step_files(sf, "retried") if "error" in f]
    assert [("empty reply" in f["error"], "message_stop" in f["error"]) for f in failed] == [
        (True, False), (False, True)]
    # every paid attempt is costed: the step's cost covers the two unusable replies too
    first = _model_steps(sf, "retried")[0]
    paid = sum(f["cost_usd"] for f in _step_files(sf, "retried") if f["role"] == "first")
    assert first["cost_usd"] == pytest.approx(paid) and len(failed) == 2


def test_a_huge_reply_fails_once_and_is_costed(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    huge = "STRUCTURED_OUTPUT_START\nRESULT|" + "x" * 400_000 + "\nSTRUCTURED_OUTPUT_END"
    fake_model.inject_reply(text=huge)
    code, _, err = _launch(sf, "--topic", "a", "--id", "huge")
    assert code != 0 and "largest field RESULT" in err.strip().splitlines()[-1]
    [record] = _step_files(sf, "huge")  # one paid call, not six
    assert record["cost_usd"] > 0 and record["usage"]["output_tokens"] > 0
    shown = _show(sf, "huge")  # the failed step's bill reaches show and the run's total
    assert _model_steps(sf, "huge")[0]["cost_usd"] == record["cost_usd"] == shown["cost_usd"]


def test_an_input_over_the_limit_is_refused_and_leaves_nothing(sf: Sandbox) -> None:
    sf.install_skill("inline-file")
    big = sf.root / "big.txt"
    big.write_text("y" * (3 * 1024 * 1024), encoding="utf-8")
    proc = sf.run("launch", "inline-file", "--file", str(big), "--id", "too-big",
                  SAGAFLOW_NO_HOOK="1", SAGAFLOW_PAYLOAD_STORE_KIB="off")  # else stored
    # outside history and accepted (tests/cli/test_payloads_cli.py)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()  # no worker started, nothing else said
    assert "'content'" in line and "Temporal accepts" in line and "by path" in line
    assert "RPCError" not in line
    assert not (sf.home / "runs" / "too-big").exists()


def test_a_budget_below_one_call_parks_before_it(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    run_id = sf.run("launch", "two-step", "--topic", "x", "--budget-usd", "0.0000001",
                    check=True).stdout.strip()
    status = _wait_waiting(sf, run_id)
    assert status["waiting_on"] == "budget"
    [gate] = status["pending_gates"]
    assert gate["prompt"].startswith("budget reached: $0.0000 of $0.0000001 spent; the next call")
    assert fake_model.calls("step about") == 0
    sf.run("cancel", run_id, check=True)


def _wait_waiting(sf: Sandbox, run_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = _show(sf, run_id)
        if data["pending_gates"]:
            return data
        time.sleep(0.5)
    raise AssertionError(f"{run_id} never parked")


def test_claude_login_error_fails_at_once(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    _setup(sf, fake_model)
    bindir = Path(sf.env["HOME"]) / "bin"
    bindir.mkdir()
    claude = bindir / "claude"
    claude.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        "echo '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,"
        "\"result\":\"Not logged in \\u00b7 Please run /login\"}'\nexit 1\n", encoding="utf-8")
    claude.chmod(claude.stat().st_mode | stat.S_IXUSR)
    path = f"{bindir}:{sf.env['PATH']}"
    code, _, err = _launch(sf, "--topic", "a", "--id", "nologin", "--transport", "claude", PATH=path)
    assert code != 0 and "Please run /login" in err and "will retry" not in err
    assert _model_steps(sf, "nologin")[0]["attempts"] == 1
