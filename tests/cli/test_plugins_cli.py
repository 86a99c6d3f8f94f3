"""Plugins configured in config.yaml, through the real CLI, worker daemon and dev server."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

from sandbox import Sandbox

PLUGINS = textwrap.dedent("""
    import json, os

    class Raising:
        def before_run(self, event):
            raise RuntimeError("before_run broke on purpose")

        def before_step(self, event):
            raise RuntimeError("before_step broke on purpose")

        async def after_step(self, event):
            raise RuntimeError("after_step broke on purpose")

        def after_run(self, event):
            raise RuntimeError("after_run broke on purpose")

    class Recorder:
        def _write(self, hook, event):
            with open(os.environ["RECORDED_EVENTS"], "a") as out:
                out.write(json.dumps({"hook": hook, "run_id": event.run_id,
                                      "status": event.status, "build": event.build,
                                      "step": getattr(event, "step", "")}) + "\\n")

        def before_run(self, event):
            self._write("before_run", event)

        def after_step(self, event):
            self._write("after_step", event)

        def after_run(self, event):
            self._write("after_run", event)
""")


def _configure(sf: Sandbox, tmp_path: Path) -> Path:
    code = tmp_path / "pluginsrc"
    code.mkdir()
    (code / "my_plugins.py").write_text(PLUGINS, encoding="utf-8")
    sf.env["PYTHONPATH"] = str(code)
    recorded = tmp_path / "events.jsonl"
    sf.env["RECORDED_EVENTS"] = str(recorded)
    sf.home.mkdir(parents=True, exist_ok=True)
    (sf.home / "config.yaml").write_text(
        'plugins: ["my_plugins:Raising", "no_such_plugin_module:Thing", "my_plugins:Recorder"]\n',
        encoding="utf-8",
    )
    return recorded


def test_a_raising_plugin_leaves_launch_await_done(sf: Sandbox, tmp_path: Path) -> None:
    recorded = _configure(sf, tmp_path)
    proc = sf.run("launch", "hello-world", "--name", "alice", "--await", check=True)
    assert proc.stdout.strip() == "hello, alice"
    run_id = proc.stderr.split("run ", 1)[1].split()[0]

    deadline = time.monotonic() + 20
    events: list[dict[str, str]] = []
    while time.monotonic() < deadline and not any(e["hook"] == "after_run" for e in events):
        time.sleep(0.1)
        if recorded.exists():
            events = [json.loads(line) for line in recorded.read_text().splitlines()]
    assert [e["hook"] for e in events] == ["before_run", *["after_step"] * 3, "after_run"]
    assert [e["step"] for e in events if e["hook"] == "after_step"] == [
        "write_artifact", "spawn_subagent", "emit_finding"]
    assert events[-1] == {"hook": "after_run", "run_id": run_id, "status": "DONE",
                          "build": events[0]["build"], "step": ""}
    assert events[0]["build"]  # the daemon serves a build: its id is in every event

    log = (sf.home / "logs" / "worker.log").read_text(encoding="utf-8")
    assert "plugin my_plugins:Raising: before_run raised RuntimeError: before_run broke on purpose" in log
    assert "before_step raised RuntimeError" in log and "after_run raised RuntimeError" in log
    assert "Traceback" not in log
    assert ("Plugin 'no_such_plugin_module:Thing' (config.yaml plugins) cannot be loaded "
            "(ModuleNotFoundError: No module named 'no_such_plugin_module'); fix or remove it. "
            "The worker serves runs without it.") in log

    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "completed" and shown["result"] == "hello, alice"

    doctor = json.loads(sf.run("doctor", "--json").stdout)
    plugins = [c for c in doctor if c["name"] == "plugins"]
    assert [c["level"] for c in plugins] == ["WARN", "OK"]
    assert "no_such_plugin_module:Thing" in plugins[0]["detail"]
    assert plugins[1]["detail"] == "my_plugins:Raising, my_plugins:Recorder"


def test_otel_spans_from_the_real_worker_by_the_standard_variables(sf: Sandbox) -> None:
    """SAGAFLOW_OTEL=1 and OTEL_TRACES_EXPORTER=console: the daemon writes its spans to its log."""
    otel = {"SAGAFLOW_OTEL": "1", "OTEL_TRACES_EXPORTER": "console",
            "OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_SERVICE_NAME": "sagaflow-cli-test"}
    proc = sf.run("launch", "hello-world", "--name", "otto", "--await", check=True, **otel)
    assert proc.stdout.strip() == "hello, otto"
    run_id = proc.stderr.split("run ", 1)[1].split()[0]
    log = sf.home / "logs" / "worker.log"
    deadline = time.monotonic() + 20
    text = ""
    while time.monotonic() < deadline and '"name": "sagaflow.run hello-world"' not in text:
        time.sleep(0.1)
        text = log.read_text(encoding="utf-8")
    for name in ("sagaflow.run hello-world", "RunWorkflow:HelloWorldWorkflow",
                 "RunActivity:spawn_subagent", "sagaflow.model_call"):
        assert f'"name": "{name}"' in text, name
    assert f'"sagaflow.run_id": "{run_id}"' in text
    assert '"service.name": "sagaflow-cli-test"' in text
    assert "OpenTelemetry spans on" in text


def test_otel_without_its_packages_is_one_line_naming_the_extra(
    sf: Sandbox, tmp_path: Path
) -> None:
    """An ``opentelemetry`` package that fails to import shadows the installed one."""
    shadow = tmp_path / "shadow" / "opentelemetry"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    sf.env["PYTHONPATH"] = str(shadow.parent)
    proc = sf.run("launch", "hello-world", "--name", "olga", "--await", SAGAFLOW_OTEL="1",
                  SAGAFLOW_NO_HOOK="1")
    assert proc.returncode != 0
    # "sagaflow: The worker of build B exited at start (sagaflow: OpenTelemetry is turned on
    # ... run: pip install 'sagaflow[otel]' (or turn it off).); see .../worker.log."
    assert "exited at start (sagaflow: OpenTelemetry is turned on" in proc.stderr
    assert "pip install 'sagaflow[otel]'" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    doctor = json.loads(sf.run("doctor", "--json", SAGAFLOW_OTEL="1").stdout)
    (check,) = [c for c in doctor if c["name"] == "otel"]
    assert check["level"] == "FAIL" and "pip install 'sagaflow[otel]'" in check["detail"]
