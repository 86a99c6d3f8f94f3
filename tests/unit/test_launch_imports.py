"""What a `sagaflow launch` of a Python skill imports stays what it needs.

`launch --await` is measured against a raw-temporalio client (issue 7, scope 9: at
most 1.1x), and every module the launching process imports is paid on every launch.
The modules below cost about 15 ms together and are needed only elsewhere: by SKILL.md
skills, by the 0.10 activities, by a replace, by an unknown activity name, by a server
start, or by workers. This runs what launch runs before it talks to Temporal (the
imports, loading the one skill, preparing its run, the activity check, the server probe)
in a fresh interpreter and names any of them that came back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: module -> where it belongs instead (the failure message says so)
LAZY = {
    "sagaflow.agent.types": "SKILL.md skills (sagaflow.skills.skillmd_spec)",
    "sagaflow.agent.skillmd": "SKILL.md skills (sagaflow.skills.skillmd_spec)",
    "sagaflow.skills.skillmd_spec": "SKILL.md skills (discovery._load_skillmd)",
    "sagaflow._engine.compat_seeds": "the 0.10 names (durable.activities / seeds __getattr__)",
    "sagaflow._engine.activities": "workers",
    "sagaflow.inbox": "a replace (runs.start) and the worker",
    "sagaflow.inbox_format": "a replace (runs.start) and the worker",
    "sagaflow.runs.follow": "a run still going after a second (runs.start.await_result)",
    "importlib.abc": "nobody on this path (finders are protocol-style)",
    "shutil": "writing a snapshot (skills.builds)",
    "tempfile": "the inbox",
    "difflib": "an unknown activity name (activity_check.close_matches)",
    "sysconfig": "starting the embedded server (temporal_cli)",
    "encodings.idna": "non-ASCII hosts (address.answers)",
    "sagaflow._engine.server": "starting the embedded server (client.ensure_temporal)",
    "temporalio.envconfig": "a Temporal profile, config file or TEMPORAL_* variable (client.resolve)",
    "yaml": "a home with config.yaml",
    "psutil": "signalling a process (procs)",
    "temporalio.worker": "workers and the sandbox check (cached per content)",
    "anthropic": "the worker's transport",
    "typer": "every command but launch",
    "rich": "TTY rendering",
}

CODE = """
import asyncio, sys
from sagaflow.cli import launching, main
from sagaflow.cli.options import parse_launch
call = parse_launch(["launch", "hello-world", "--await", "--name", "a"])
assert call is not None
import sagaflow.runs.launch as L
from sagaflow._engine import activity_check, search_attributes
from sagaflow._engine.client import resolve
from sagaflow._engine.address import answers
from sagaflow.cli._state import with_root
from sagaflow.config import load_settings
from sagaflow.paths import Home
from sagaflow.runs import payload_size, start
from sagaflow.skills.args import parse_skill_args
from sagaflow.skills.prepare import prepare

home = Home.current()
settings = with_root(load_settings(home), call.root)
loaded = L.load_skills(only="hello-world")
prepared = prepare(home, settings, loaded, "hello-world", parse_skill_args([], ["--name", "a"]),
                   transport="scripted", task_queue="q")
activity_check.check_launch(loaded, prepared.record.skill)
answers("127.0.0.1:1")
resolve(settings)
L.launch_options()
for name in sorted(sys.modules):
    print(name)
"""


def test_launch_path_keeps_heavy_modules_lazy(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAGAFLOW_", "TEMPORAL_", "ANTHROPIC_", "CLAUDE_", "XDG_"))}
    env.update(HOME=str(tmp_path / "user"), SAGAFLOW_HOME=str(tmp_path / "home"),
               SAGAFLOW_NO_HOOK="1")
    (tmp_path / "work").mkdir()
    for _first_then_again in range(2):  # the first fills the sandbox check's cache, as a
        proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                              env=env, cwd=tmp_path / "work", timeout=120)  # first launch does
        assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = set(proc.stdout.split())
    assert "sagaflow.runs.launch" in loaded and "skills.hello_world" in loaded  # not vacuous
    found = {name: why for name, why in LAZY.items() if name in loaded}
    assert not found, "imported on every launch; import these where they are needed: " + \
        "; ".join(f"{name} (belongs to {why})" for name, why in sorted(found.items()))
