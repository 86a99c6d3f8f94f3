"""Builds: content hashes, the blob store, atomic snapshots, the stat cache, bad input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sagaflow.errors import BuildError
from sagaflow.paths import Home
from sagaflow.skills import builds
from sagaflow.skills.discovery import SkillSource
from sagaflow.skills.hashing import StatCache, skill_files


def _skill(root: Path, name: str, body: str = "x = 1\n") -> SkillSource:
    directory = root / name
    (directory / "prompts").mkdir(parents=True)
    (directory / "__init__.py").write_text("def register(registry):\n    pass\n")
    (directory / "workflow.py").write_text(body)
    (directory / "prompts" / "a.md").write_text("hello $name\n")
    (directory / "__pycache__").mkdir()
    (directory / "__pycache__" / "workflow.cpython-311.pyc").write_bytes(b"\0")
    return SkillSource(directory, "project")


def _age(directory: Path, seconds: float = 60) -> None:
    """Backdate every file so the stat cache may keep it (it skips files edited just now)."""
    past = time.time() - seconds
    for path in directory.rglob("*"):
        os.utime(path, (past, past))


def test_same_content_is_one_build_wherever_it_was_found(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    one = _skill(tmp_path / "proj-a", "review")
    two = SkillSource(_skill(tmp_path / "proj-b", "review").dir, "user")
    assert builds.make(home, [one]).id == builds.make(home, [two]).id
    assert builds.known(home) == [builds.make(home, [one]).id]


def test_an_edit_is_a_new_build_and_unchanged_files_are_stored_once(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    source = _skill(tmp_path / "proj", "review")
    first = builds.make(home, [source])
    (source.dir / "workflow.py").write_text("x = 2\n")
    second = builds.make(home, [source])
    assert first.id != second.id and len(first.id) == 16
    blobs = [p for p in (home.root / "builds" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 4  # __init__.py, prompts/a.md, two versions of workflow.py
    assert (first.skill_dir("review") / "workflow.py").read_text() == "x = 1\n"
    assert (second.skill_dir("review") / "workflow.py").read_text() == "x = 2\n"
    shared = [(b.skill_dir("review") / "prompts" / "a.md").stat().st_ino for b in (first, second)]
    assert shared[0] == shared[1]
    assert sorted(first.skills[0].files) == ["__init__.py", "prompts/a.md", "workflow.py"]
    assert (first.skill_dir("review") / "workflow.py").stat().st_mode & 0o777 == 0o400


def test_a_build_is_served_after_its_files_moved(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    source = _skill(tmp_path / "proj", "review")
    made = builds.make(home, [source])
    (tmp_path / "proj").rename(tmp_path / "elsewhere")
    opened = builds.open_build(home, made.id)
    assert opened.skills == made.skills
    assert [s.dir for s in opened.sources()] == [made.root / "skills" / "review"]
    assert opened.sources()[0].module == "skills.review"
    assert opened.skills[0].source == str(source.dir)


def test_a_crashed_writer_leaves_no_build_and_its_leftovers_are_cleaned(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    root = home.root / "builds"
    stale = root / ".tmp-0123456789abcdef-99999"
    (stale / "skills").mkdir(parents=True)
    past = time.time() - builds.STALE_TMP_SECONDS - 10
    os.utime(stale, (past, past))
    fresh = root / ".tmp-fedcba9876543210-99998"  # a writer still at work: left alone
    fresh.mkdir()
    assert builds.known(home) == []  # a tree without its rename is not a build
    with pytest.raises(BuildError, match="missing or damaged"):
        builds.open_build(home, "0123456789abcdef")
    builds.make(home, [_skill(tmp_path / "proj", "review")])
    assert not stale.exists() and fresh.exists()


def test_a_snapshot_deleted_by_hand_says_how_to_recover(tmp_path: Path) -> None:
    import shutil

    home = Home(tmp_path / "home")
    made = builds.make(home, [_skill(tmp_path / "proj", "review")])
    shutil.rmtree(made.skill_dir("review"))
    with pytest.raises(BuildError) as lacking:
        builds.open_build(home, made.id)
    assert "lacks skill review" in lacking.value.message
    shutil.rmtree(made.root)
    with pytest.raises(BuildError) as gone:
        builds.open_build(home, made.id)
    assert "deleted by hand" in gone.value.message and "sagaflow cancel" in gone.value.message
    assert builds.make(home, [_skill(tmp_path / "proj2", "review")]).id == made.id  # rewritten


def test_the_stat_cache_spares_reading_unchanged_files(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    source = _skill(tmp_path / "proj", "review")
    _age(source.dir)
    first = builds.identify(home, [source])
    cache_file = home.root / "builds" / "statcache.json"
    entries = json.loads(cache_file.read_text())
    assert len(entries) == 3
    # the cache is trusted while size, times and inode are unchanged: poison one entry
    key = str(source.dir / "workflow.py")
    entries[key][4] = "0" * 64
    cache_file.write_text(json.dumps(entries))
    assert builds.identify(home, [source]) != first
    (source.dir / "workflow.py").write_text("x = 1\n")  # same content, new mtime: re-hashed
    assert builds.identify(home, [source]) == first


def test_files_edited_just_now_are_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("a")
    cache = StatCache(tmp_path / "cache.json")
    cache.digest(path)
    cache.save()
    assert not (tmp_path / "cache.json").exists()  # racy: within RACY_SECONDS of its mtime


def test_unreadable_files_are_one_clear_error(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    source = _skill(tmp_path / "proj", "review")
    (source.dir / "gone.md").symlink_to(tmp_path / "nowhere.md")  # dangling: unreadable
    with pytest.raises(BuildError, match=r"Cannot read skill file .*gone\.md"):
        builds.make(home, [source])


def test_skill_files_skip_bytecode_hidden_and_dependency_dirs(tmp_path: Path) -> None:
    source = _skill(tmp_path, "review")
    for hidden in (".git", "node_modules", ".venv"):
        (source.dir / hidden).mkdir()
        (source.dir / hidden / "x").write_text("x")
    assert sorted(rel for rel, _ in skill_files(source.dir)) == [
        "__init__.py", "prompts/a.md", "workflow.py"]


def test_the_current_marker_round_trips(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    assert builds.current_marker(home) is None
    builds.set_current_marker(home, "0123456789abcdef")
    assert builds.current_marker(home) == "0123456789abcdef"


def test_the_current_marker_is_trusted_only_where_it_was_written(tmp_path: Path) -> None:
    """A home that targets another server, namespace or task queue does not skip making its
    build current there (the marker saves one RPC per launch, nothing else)."""
    from sagaflow._engine.versioning import marker_scope

    home = Home(tmp_path / "home")
    here = marker_scope("127.0.0.1:7233", "default", "sagaflow")
    builds.set_current_marker(home, "0123456789abcdef", here)
    assert builds.current_marker(home, here) == "0123456789abcdef"
    for elsewhere in (marker_scope("127.0.0.1:7234", "default", "sagaflow"),
                      marker_scope("127.0.0.1:7233", "other", "sagaflow"),
                      marker_scope("127.0.0.1:7233", "default", "sagaflow-b")):
        assert builds.current_marker(home, elsewhere) is None
    (builds.builds_dir(home) / "current").write_text("fedcba9876543210")  # an older sagaflow's
    assert builds.current_marker(home, here) is None
    assert builds.current_marker(home) == "fedcba9876543210"
