"""Builds through the CLI: a run finishes on the code that started it (issue 10 scope 1-3)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from sandbox import Sandbox, one_line_failure
from temporalio.client import Client
from test_steer import outcome, wait_pending

from sagaflow._engine import versioning

#: the gated test skill's edit: a timer and an activity before the gate, another result
NEW_CODE_BEFORE_GATE = '''        await workflow.sleep(0.2)
        await _write(f"{inp.run_dir}/new-code.txt", "written by the edited skill")
        try:
            decision = await ApprovalGate('''


def _edit(skill_dir: Path, label: str, *, before_gate: bool = True) -> None:
    """Change the skill's result text (and, ``before_gate``, add a timer and a step)."""
    path = skill_dir / "workflow.py"
    code = path.read_text()
    code = code.replace('summary = f"published:', f'summary = f"{label} published:')
    if before_gate:
        code = code.replace(
            "        try:\n            decision = await ApprovalGate(", NEW_CODE_BEFORE_GATE, 1
        )
    path.write_text(code)


def _project(sf: Sandbox, name: str, label: str) -> Path:
    """A project directory (its own repository) with its own copy of the gated skill."""
    root = sf.root.parent / name
    (root / ".git").mkdir(parents=True)
    skill = sf.install_skill("gated", into=root / ".claude" / "skills")
    _edit(skill, label, before_gate=False)
    return root


def _launch(sf: Sandbox, run_id: str, cwd: Path | None = None) -> None:
    sf.run("launch", "gated", "--id", run_id, check=True, cwd=cwd)
    wait_pending(sf, run_id)


def _build(sf: Sandbox, run_id: str) -> str:
    shown = json.loads(sf.run("show", run_id, "--json", check=True).stdout)
    assert shown["build"], shown
    return str(shown["build"])


def test_edited_skill_old_run_finishes_on_old_code(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "old-1")
    _edit(skill, "NEW")  # a timer and a step before the gate: not replay-compatible
    _launch(sf, "new-1")
    old_build, new_build = _build(sf, "old-1"), _build(sf, "new-1")
    assert old_build != new_build
    listed = {r["run_id"]: r["build"] for r in json.loads(sf.run("list", "--json", check=True).stdout)}
    assert listed == {"old-1": old_build, "new-1": new_build}
    for run_id in ("old-1", "new-1"):
        sf.run("approve", run_id, "--by", "ann", check=True)
    assert outcome(sf, "old-1") == ("completed", "published: approved by ann")
    assert outcome(sf, "new-1") == ("completed", "NEW published: approved by ann")
    assert not (sf.home / "runs" / "old-1" / "new-code.txt").exists()
    assert (sf.home / "runs" / "new-1" / "new-code.txt").exists()
    # each build keeps its own immutable snapshot; the file they share is stored once
    snap = sf.home / "builds" / old_build / "skills" / "gated"
    assert "NEW" not in (snap / "workflow.py").read_text()
    assert (snap / "__init__.py").stat().st_ino == \
        (sf.home / "builds" / new_build / "skills" / "gated" / "__init__.py").stat().st_ino


def test_two_projects_launching_alternately_each_get_their_own_code(sf: Sandbox) -> None:
    projects = {"A": _project(sf, "proj-a", "A"), "B": _project(sf, "proj-b", "B")}
    for i in (1, 2):
        for name, root in projects.items():
            _launch(sf, f"{name.lower()}-{i}", cwd=root)
    status = json.loads(sf.run("worker", "status", "--json", check=True).stdout)
    assert len(status["workers"]) == 2
    assert {w["open_runs"] for w in status["workers"]} == {2}
    for name in projects:
        for i in (1, 2):  # approved from neither project: the pin decides the code
            sf.run("approve", f"{name.lower()}-{i}", "--by", "bo", check=True)
    for name in projects:
        for i in (1, 2):
            assert outcome(sf, f"{name.lower()}-{i}") == (
                "completed", f"{name} published: approved by bo")


def test_stopped_workers_come_back_from_the_snapshot(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "parked-1")
    build = _build(sf, "parked-1")
    stopped = sf.run("worker", "stop", check=True)
    assert "stopped worker" in stopped.stdout
    none = sf.run("worker", "status")
    assert none.returncode == 1 and "no worker running" in none.stdout
    assert json.loads(sf.run("worker", "status", "--json", check=True).stdout)["workers"] == []
    _edit(skill, "NEW")
    shutil.move(str(skill), str(sf.root / "moved-away"))  # the files are gone, too
    approved = sf.run("approve", "parked-1", "--by", "cy", check=True)
    assert f"build {build}" in approved.stderr  # "worker started (pid ..., build ...)"
    assert outcome(sf, "parked-1") == ("completed", "published: approved by cy")


def test_a_deleted_snapshot_is_named_with_the_way_out(sf: Sandbox) -> None:
    sf.install_skill("gated")
    _launch(sf, "orphan-1")
    build = _build(sf, "orphan-1")
    sf.run("worker", "stop", check=True)
    shutil.rmtree(sf.home / "builds" / build)
    proc = sf.run("approve", "orphan-1")
    one_line_failure(proc, 1, f"Build {build}", "deleted by hand", "sagaflow cancel")


def test_move_run_pins_an_open_run_to_another_build(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "mover-1")
    _edit(skill, "MOVED", before_gate=False)  # only the text after the gate: compatible
    started = json.loads(sf.run("worker", "start", "--json", check=True).stdout)
    target = started["build"]
    assert target != _build(sf, "mover-1")

    async def move() -> None:
        client = await Client.connect(sf.env["TEMPORAL_ADDRESS"])
        await versioning.move_run(client, "mover-1", sf.env["SAGAFLOW_TASK_QUEUE"], target)

    asyncio.run(move())
    assert _build(sf, "mover-1") == target
    sf.run("approve", "mover-1", "--by", "di", check=True)
    assert outcome(sf, "mover-1") == ("completed", "MOVED published: approved by di")


def test_an_idle_build_worker_retires_once_its_runs_are_done(sf: Sandbox) -> None:
    import time

    sf.env["SAGAFLOW_WORKER_IDLE_SECONDS"] = "1"
    sf.install_skill("gated")
    _launch(sf, "keeps-1")
    old = _build(sf, "keeps-1")
    sf.install_skill("two-step")  # a new build, made current by its launch
    sf.run("launch", "two-step", "--topic", "tea", "--await", check=True)

    def live() -> dict[str, int]:
        status = json.loads(sf.run("worker", "status", "--json", check=True).stdout)
        return {w["build"]: w["open_runs"] for w in status["workers"]}

    time.sleep(3)  # several idle periods: the parked run keeps its build's worker
    assert live()[old] == 1
    sf.run("approve", "keeps-1", check=True)
    assert outcome(sf, "keeps-1")[0] == "completed"
    deadline = time.monotonic() + 30
    while old in live() and time.monotonic() < deadline:
        time.sleep(0.5)
    workers = live()
    assert old not in workers and len(workers) == 1  # the current build's worker stays
    log = (sf.home / "logs" / "worker.log").read_text()
    assert f"build {old} is not current and has no open runs" in log


def test_attaching_by_id_brings_back_the_runs_own_build(sf: Sandbox) -> None:
    skill = sf.install_skill("gated")
    _launch(sf, "attach-1")
    build = _build(sf, "attach-1")
    sf.run("worker", "stop", check=True)
    _edit(skill, "NEW")  # this directory's build is another one now
    attached = sf.run("launch", "gated", "--id", "attach-1", check=True)
    assert "attached to open run attach-1" in attached.stderr
    assert f"build {build}" in attached.stderr  # the run's own build, not the directory's
    sf.run("approve", "attach-1", "--by", "ed", check=True)
    assert outcome(sf, "attach-1") == ("completed", "published: approved by ed")


def test_a_home_moved_to_another_task_queue_makes_its_build_current_there(sf: Sandbox) -> None:
    """The home remembers which build it made current, to save that RPC on every launch;
    the memory is per server, namespace and deployment, so the same home on another task
    queue still makes its build current there (an unpinned start, e.g. a schedule's firing,
    would find no current build otherwise)."""
    sf.run("launch", "hello-world", "--name", "a", "--await", check=True)
    first_queue = sf.env["SAGAFLOW_TASK_QUEUE"]
    sf.env["SAGAFLOW_TASK_QUEUE"] = f"{first_queue}-b"
    sf.run("launch", "hello-world", "--name", "b", "--await", check=True)

    async def current() -> tuple[str | None, str | None]:
        client = await Client.connect(sf.env["TEMPORAL_ADDRESS"])
        return (await versioning.current_build(client, first_queue),
                await versioning.current_build(client, f"{first_queue}-b"))

    first, second = asyncio.run(current())
    assert first is not None and second == first  # the same skills: the same build id
    status = json.loads(sf.run("worker", "status", "--json", check=True).stdout)
    assert status["current_build"] == second
