"""sagaflow.plugins: loading from config specs and entry points, bad specs, config keys,
and the hook caller (sagaflow._engine.hooks) without Temporal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from sagaflow.config import load_settings
from sagaflow.errors import ConfigError
from sagaflow.paths import Home
from sagaflow.plugins import ENTRY_POINT_GROUP, Plugin, RunEvent, load_plugins


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An importable module ``myplugins`` with a class, an instance and a non-plugin."""
    (tmp_path / "myplugins.py").write_text(textwrap.dedent("""
        from sagaflow.plugins import Plugin

        class Audit(Plugin):
            def after_run(self, event):
                pass

        class Duck:
            async def on_error(self, event):
                pass

        instance = Duck()
        NOT_A_PLUGIN = 42

        class NeedsArgs(Plugin):
            def __init__(self, url):
                self.url = url
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "myplugins", raising=False)
    return "myplugins"


def test_specs_load_classes_instances_and_duck_types(plugin_module: str) -> None:
    found = load_plugins([f"{plugin_module}:Audit", f"{plugin_module}:instance",
                          f"{plugin_module}:Audit"], entry_points=False)
    assert found.problems == ()
    names = [name for name, _ in found.plugins]
    assert names == ["myplugins:Audit", "myplugins:instance"]  # the duplicate loads once
    audit, duck = (plugin for _, plugin in found.plugins)
    assert isinstance(audit, Plugin) and type(duck).__name__ == "Duck"


@pytest.mark.parametrize(("spec", "why"), [
    ("nosuchmodule_xyz:Thing", "ModuleNotFoundError: No module named 'nosuchmodule_xyz'"),
    ("myplugins:Missing", "AttributeError"),
    ("myplugins", "ValueError: a plugin is named 'module:attr'"),
    ("myplugins:NOT_A_PLUGIN", "TypeError: it has none of the hook methods"),
    ("myplugins:NeedsArgs", "TypeError"),
])
def test_a_bad_spec_is_one_sentence_and_the_others_still_load(
    plugin_module: str, spec: str, why: str
) -> None:
    found = load_plugins([spec, f"{plugin_module}:Audit"], entry_points=False)
    assert [name for name, _ in found.plugins] == ["myplugins:Audit"]
    (problem,) = found.problems
    assert problem.startswith(f"Plugin {spec!r} (config.yaml plugins) cannot be loaded (")
    assert why in problem and problem.endswith("fix or remove it.") and "\n" not in problem


def test_entry_points_load_and_a_broken_one_is_named(tmp_path: Path) -> None:
    """A real installed distribution (a .dist-info on sys.path) declaring two entry points."""
    site = tmp_path / "site"
    dist = site / "acme_plugins-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_hooks:Acme\nbroken = acme_hooks:Nope\n")
    (site / "acme_hooks.py").write_text(
        "class Acme:\n    def before_run(self, event):\n        pass\n")
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(site)!r})
        from sagaflow.plugins import load_plugins
        found = load_plugins([])
        print([n for n, _ in found.plugins]); print(found.problems)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    names, problems = out.stdout.splitlines()
    assert names == "['entry point acme']"
    assert "Plugin entry point 'broken' (acme_hooks:Nope) cannot be loaded (AttributeError" in problems
    assert "fix or uninstall the package that declares it." in problems


def test_config_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SAGAFLOW_PLUGINS", "SAGAFLOW_OTEL"):
        monkeypatch.delenv(name, raising=False)
    home = Home(tmp_path / "home")
    home.ensure()
    assert (load_settings(home).plugins, load_settings(home).otel) == ((), False)
    home.config_file.write_text(
        "plugins: ['a.b:C', ' d:E ']\notel: true\ntimeouts: {plugin_seconds: 0.5}\n")
    settings = load_settings(home)
    assert (settings.plugins, settings.otel, settings.plugin_seconds) == (("a.b:C", "d:E"), True, 0.5)
    monkeypatch.setenv("SAGAFLOW_PLUGINS", "x:Y, z:W")
    monkeypatch.setenv("SAGAFLOW_OTEL", "0")
    settings = load_settings(home)
    assert (settings.plugins, settings.otel) == (("x:Y", "z:W"), False)
    monkeypatch.delenv("SAGAFLOW_PLUGINS")
    home.config_file.write_text("plugins: {a: b}\n")
    with pytest.raises(ConfigError, match=r"'plugins' in .* must be a list"):
        load_settings(home)


def _event(run: str = "r1") -> RunEvent:
    return RunEvent(run_id=run, skill="s", workflow_id=run, temporal_run_id="t",
                    workflow_type="W", build="", status="RUNNING", started_at="")


def test_hooks_run_in_order_on_their_own_thread_and_survive_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sagaflow._engine.hooks import Hooks

    seen: list[tuple[str, str, str]] = []

    class Broken:
        def before_run(self, event: RunEvent) -> None:
            raise RuntimeError("boom\nsecond line")

    class Good(Plugin):
        def before_run(self, event: RunEvent) -> None:
            seen.append(("before_run", event.run_id, threading.current_thread().name))

        async def after_run(self, event: RunEvent) -> None:
            seen.append(("after_run", event.run_id, threading.current_thread().name))

    hooks = Hooks([("broken", Broken()), ("good", Good())], timeout=1.0, build="b7")
    hooks.emit("before_run", _event("r1"))
    hooks.run_event("after_run", _event("r2"))
    assert hooks.drain(5)
    assert [(h, r) for h, r, _ in seen] == [("before_run", "r1"), ("after_run", "r2")]
    assert threading.current_thread().name not in {t for _, _, t in seen}
    (line,) = [m for m in caplog.messages if "raised" in m]
    assert line == "plugin broken: before_run raised RuntimeError: boom (run r1; the run is not affected)"
    with pytest.raises(ValueError, match="unknown plugin hook 'after_all'"):
        hooks.emit("after_all", _event())


def test_no_plugins_start_no_thread() -> None:
    from sagaflow._engine.hooks import Hooks

    hooks = Hooks([])
    hooks.emit("before_run", _event())
    assert hooks._loop is None and hooks.drain(0)
