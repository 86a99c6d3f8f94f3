"""Names and paths: full-match name rules, path confinement, per-writer temp files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sagaflow import runrecord
from sagaflow._engine.confine import confine, write_atomically
from sagaflow._engine.meta import RunConfig, check_pool
from sagaflow.config import Settings, load_settings
from sagaflow.errors import ConfigError, ConfinementError, SkillLoadError, UsageError
from sagaflow.paths import Home, check_name
from sagaflow.runs.schedules import schedule_id
from sagaflow.skills.registry import SkillRegistry, SkillSpec

BAD_NAMES = ["ok\n", "a/b", "..", ".x", "", "a\\b", "x y", "x" * 201]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_every_name_validator_full_matches(bad: str) -> None:
    for check in (runrecord.check_run_id, check_pool, schedule_id,
                  lambda v: Home(Path("/h")).run_dir(v)):
        with pytest.raises(UsageError, match="is not usable"):
            check(bad)
    with pytest.raises(SkillLoadError, match="Skill name"):
        SkillRegistry().register(SkillSpec(name=bad, workflow_cls=object))


def test_name_caps() -> None:
    assert check_name("p" * 64, "Pool name", 64) and check_pool("p" * 64)
    with pytest.raises(UsageError, match="at most 64"):
        check_pool("p" * 65)
    with pytest.raises(UsageError, match="at most 100"):
        schedule_id("s" * 101)


def test_confine_resolves_relative_dotdot_absolute_and_symlinks(tmp_path: Path) -> None:
    run_dir = tmp_path / "home" / "runs" / "r-1"
    run_dir.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    assert confine("a/b.txt", run_dir, what="p") == run_dir.resolve() / "a" / "b.txt"
    assert confine(str(run_dir / "x" / ".." / "y"), run_dir, what="p") == run_dir.resolve() / "y"
    for escape in ("../r-2/x", "../../INBOX.md", str(outside / "x"), "/etc/passwd", "."):
        with pytest.raises(ConfinementError) as info:
            confine(escape, run_dir, what="write_artifact path")
        assert f"write_artifact path {escape} leads to" in info.value.message
        assert not info.value.retryable
    (run_dir / "out").symlink_to(outside)
    with pytest.raises(ConfinementError, match="outside the run directory"):
        confine("out/x", run_dir, what="p")
    assert confine("out/x", run_dir, [str(outside)], what="p") == outside.resolve() / "x"
    (run_dir / "loop").symlink_to(run_dir / "loop")
    with pytest.raises(ConfinementError):
        confine("loop/x", run_dir, what="p")
    with pytest.raises(ConfinementError, match="empty"):
        confine("", run_dir, what="p")


def test_a_run_dir_reached_through_a_symlinked_home_is_still_inside(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "runs" / "r").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(real)
    run_dir = tmp_path / "alias" / "runs" / "r"
    assert confine(str(run_dir / "f"), run_dir, what="p") == real.resolve() / "runs" / "r" / "f"


def test_atomic_write_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "d" / "link"
    link.parent.mkdir()
    link.symlink_to(victim)
    write_atomically(link, "new")
    assert victim.read_text() == "keep" and not link.is_symlink() and link.read_text() == "new"
    assert [p.name for p in link.parent.iterdir()] == ["link"]  # no temp file left


def test_allowed_roots_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    home = Home(tmp_path / "h")
    home.ensure()
    home.config_file.write_text("artifacts:\n  allowed_roots: [~/reports, /srv/out/]\n")
    settings = load_settings(home)
    assert settings.artifact_roots == (str(tmp_path / "reports"), "/srv/out")
    assert RunConfig.from_settings(settings, "scripted").allowed_roots == list(settings.artifact_roots)
    assert Settings().artifact_roots == ()
    for bad in ("artifacts:\n  allowed_roots: [reports]\n", "artifacts:\n  allowed_roots: {a: 1}\n"):
        home.config_file.write_text(bad)
        with pytest.raises(ConfigError, match="allowed_roots"):
            load_settings(home)


def test_concurrent_record_writers_never_share_a_temp_file(tmp_path: Path) -> None:
    home = Home(tmp_path)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(100):
                runrecord.write_record(home, runrecord.RunRecord(
                    run_id="same-id", skill="s", skill_dir="", args={"w": f"{n}-{i}"}))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    record = runrecord.read_record(home, "same-id")
    assert record is not None and record.args["w"].endswith("-99")
    assert os.listdir(home.run_dir("same-id")) == ["run.json"]
