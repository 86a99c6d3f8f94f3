"""``sagaflow new``'s scaffolds on disk: names, refusals, atomic writes, what it prints next.

That the scaffolds' own tests pass is checked in tests/engine/test_offline_runner.py (in
process) and tests/cli/test_authoring.py (new → test → launch).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sagaflow.authoring import scaffold
from sagaflow.authoring.casefile import load_cases
from sagaflow.errors import HomeError, UsageError
from sagaflow.skills.discovery import load_skills


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user (HOME) and working directory; no CLAUDE_CONFIG_DIR, no skills path."""
    for name in ("CLAUDE_CONFIG_DIR", "SAGAFLOW_SKILLS_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "home"))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "user"


@pytest.mark.parametrize("kind", scaffold.KINDS)
def test_each_kind_lands_where_discovery_finds_it_and_loads(user: Path, kind: str) -> None:
    created = scaffold.create("tide-notes", kind=kind)
    assert created.path == user / ".claude" / "skills" / "tide-notes"
    assert created.next[0] == "sagaflow test tide-notes"
    assert created.next[1].startswith("sagaflow launch tide-notes ")
    assert created.next[1].endswith(" --await --transport scripted")
    assert sorted(p.relative_to(created.path).as_posix() for p in created.path.rglob("*")
                  if p.is_file()) == sorted(created.files)
    texts = [p.read_text() for p in created.path.rglob("*") if p.is_file()]
    assert not [t for t in texts if any(h in t for h in ("__SKILL__", "__MODULE__", "__CLASS__"))]
    assert [c.name for c in load_cases(created.path)] == ["summarizes"]
    info = next(i for i in load_skills().infos if i.name == "tide-notes")
    assert (info.status, info.kind, info.dir) == ("ok", kind, created.path), info.error


def test_python_scaffold_names_its_module_and_classes(user: Path) -> None:
    created = scaffold.create("tide-notes")
    init = (created.path / "__init__.py").read_text()
    assert "from skills.tide_notes.workflow import TideNotesInput, TideNotesWorkflow" in init
    assert '@workflow.defn(name="TideNotesWorkflow")' in (created.path / "workflow.py").read_text()


@pytest.mark.parametrize("name", ["My Skill", "2fast", "a_b", "-x", "x-", "a--b", "import",
                                  "x" * 65, "Upper"])
def test_unusable_names_are_refused_with_a_suggestion(user: Path, name: str) -> None:
    with pytest.raises(UsageError, match=r"is not usable.*e\.g\. '"):
        scaffold.create(name)
    assert not (user / ".claude").exists()


def test_an_existing_directory_is_refused_and_left_alone(user: Path) -> None:
    target = user / ".claude" / "skills" / "mine"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="already exists; pick another name, pass --dir"):
        scaffold.create("mine")
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_unknown_kind(user: Path) -> None:
    with pytest.raises(UsageError, match="Unknown skill kind 'rust'; use python or skillmd"):
        scaffold.create("x", kind="rust")


def test_a_failed_write_leaves_nothing_behind(user: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", broken)
    with pytest.raises(HomeError, match="No space left on device"):
        scaffold.create("full")
    assert list((user / ".claude" / "skills").iterdir()) == []


def test_a_directory_off_the_search_path_gets_runnable_commands(user: Path, tmp_path: Path) -> None:
    created = scaffold.create("elsewhere", parent=Path("../lab"))
    assert created.path == tmp_path / "lab" / "elsewhere"
    assert created.next == [
        f"sagaflow test {created.path}",
        f"SAGAFLOW_SKILLS_PATH={created.path.parent} sagaflow launch elsewhere --topic "
        "'tide pools' --await --transport scripted",
    ]


def test_a_projects_first_claude_skills_dir_is_on_the_search_path(user: Path,
                                                                  tmp_path: Path) -> None:
    """`new NAME --dir .claude/skills` in a project without that directory yet: the new skill
    is found by name from there (not via SAGAFLOW_SKILLS_PATH), and the user skill it hides
    is said."""
    (tmp_path / "work" / ".git").mkdir()
    scaffold.create("summarize")  # the user's own
    created = scaffold.create("summarize", parent=Path(".claude/skills"))
    assert created.path == tmp_path / "work" / ".claude" / "skills" / "summarize"
    assert created.next[0] == "sagaflow test summarize"
    assert created.next[1].startswith("sagaflow launch summarize ")
    assert created.note == (f"it hides the user skill summarize at "
                            f"{user / '.claude' / 'skills' / 'summarize'}")
    info = next(i for i in load_skills().infos if i.name == "summarize")
    assert info.dir == created.path


def test_a_directory_off_the_path_is_refused_when_its_launch_would_reach_another(
    user: Path, tmp_path: Path
) -> None:
    """The printed `SAGAFLOW_SKILLS_PATH=DIR sagaflow launch NAME` would run the user's
    same-named skill, not the new one; a bundled one below it is only said."""
    mine = scaffold.create("summarize")
    with pytest.raises(UsageError, match=f"already exists at {mine.path} and would hide the "
                       f"new one in {tmp_path / 'lab'} \\(reached through SAGAFLOW_SKILLS_PATH"):
        scaffold.create("summarize", parent=Path("../lab"))
    assert not (tmp_path / "lab" / "summarize").exists()
    lab = scaffold.create("hello-world", parent=Path("../lab"))
    assert lab.next[1].startswith(f"SAGAFLOW_SKILLS_PATH={tmp_path / 'lab'} sagaflow launch ")
    assert lab.note.startswith("it hides the bundled skill hello-world")


def test_a_higher_skill_of_the_same_name_is_refused(user: Path, tmp_path: Path) -> None:
    project = tmp_path / "work" / ".claude" / "skills" / "dup"
    project.mkdir(parents=True)
    (project / "SKILL.md").write_text("---\nname: dup\ndescription: d\n---\nbody\n")
    with pytest.raises(UsageError, match=f"already exists at {project} and would hide"):
        scaffold.create("dup")
    lower = scaffold.create("hello-world")  # hides the bundled one: said, not refused
    assert lower.note.startswith("it hides the bundled skill hello-world")


def test_ctrl_c_mid_write_leaves_no_scratch_directory(
    user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffold, "_render", interrupted)
    parent = user / ".claude" / "skills"
    with pytest.raises(KeyboardInterrupt):
        scaffold.create("half-done")
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize(("make", "what"), [
    (lambda p: p.write_text("x"), "is not a directory"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "is a dangling symbolic link"),
])
def test_a_dir_that_is_no_directory_says_so(user: Path, tmp_path: Path, make: object,
                                            what: str) -> None:
    target = tmp_path / "target"
    make(target)  # type: ignore[operator]
    with pytest.raises(HomeError) as info:
        scaffold.create("notes", parent=target)
    assert str(info.value) == (f"Cannot create {target / 'notes'}: {target} {what}; "
                               "pick a directory for --dir.")


def test_the_skill_follows_the_users_umask_not_sagaflows_private_one(
    user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagaflow import paths

    monkeypatch.setattr(paths, "_STARTED_WITH", [0o022])
    before = os.umask(paths.PRIVATE_UMASK)  # as the CLI runs
    try:
        created = scaffold.create("shared-notes")
    finally:
        os.umask(before)
    assert created.path.stat().st_mode & 0o777 == 0o755
    assert (created.path / "tests").stat().st_mode & 0o777 == 0o755
    assert (created.path / "workflow.py").stat().st_mode & 0o777 == 0o644
