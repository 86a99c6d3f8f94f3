"""Tests for sagaflow.skills.discovery: search roots, precedence, error reporting, imports."""

from __future__ import annotations

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sagaflow.skills import discovery
from sagaflow.skills.discovery import LoadedSkills, SkillInfo, load_skills

INIT = """\
from sagaflow.skills.registry import SkillSpec

from skills.{mod}.workflow import Wf


def register(registry):
    registry.register(SkillSpec(name={name!r}, workflow_cls=Wf, description={desc!r}))
"""

WORKFLOW = """\
from temporalio import workflow


@workflow.defn(name={wf!r})
class Wf:
    @workflow.run
    async def run(self) -> str:
        return {desc!r}
"""


def uid() -> str:
    return uuid.uuid4().hex[:8]


def make_skill(
    root: Path,
    dirname: str,
    *,
    name: str | None = None,
    desc: str = "",
    init: str | None = None,
    workflow_src: str | None = None,
) -> Path:
    """A tiny skill: ``__init__.py`` registering a ``@workflow.defn`` class from ``workflow.py``."""
    mod = dirname.replace("-", "_")
    directory = root / dirname
    directory.mkdir(parents=True)
    wf = f"Wf_{mod}"
    (directory / "workflow.py").write_text(
        workflow_src if workflow_src is not None else WORKFLOW.format(wf=wf, desc=desc),
        encoding="utf-8",
    )
    (directory / "__init__.py").write_text(
        init if init is not None else INIT.format(mod=mod, name=name or dirname, desc=desc),
        encoding="utf-8",
    )
    return directory


@dataclass
class Layout:
    above_git: Path  # .claude/skills above the repository root: never searched
    outer: Path  # <repo>/.claude/skills
    inner: Path  # <repo>/sub/.claude/skills
    user: Path  # $CLAUDE_CONFIG_DIR/skills
    path1: Path  # first SAGAFLOW_SKILLS_PATH entry
    path2: Path  # second SAGAFLOW_SKILLS_PATH entry
    bundled: Path
    cwd: Path
    home: Path


def _skills_modules() -> dict[str, object]:
    return {k: v for k, v in sys.modules.items() if k == "skills" or k.startswith("skills.")}


@pytest.fixture(autouse=True)
def _restore_skills_namespace() -> Iterator[None]:
    """Leave the global ``skills.*`` finder and modules as they were."""
    locations = dict(discovery._FINDER.locations)
    modules = _skills_modules()
    try:
        yield
    finally:
        for name in _skills_modules():
            del sys.modules[name]
        sys.modules.update(modules)  # type: ignore[arg-type]
        discovery._FINDER.locations = locations


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    repo = tmp_path / "outer" / "repo"
    lay = Layout(
        above_git=tmp_path / "outer" / ".claude" / "skills",
        outer=repo / ".claude" / "skills",
        inner=repo / "sub" / ".claude" / "skills",
        user=tmp_path / "claude" / "skills",
        path1=tmp_path / "path1",
        path2=tmp_path / "path2",
        bundled=tmp_path / "bundled",
        cwd=repo / "sub" / "work" / "deeper",
        home=tmp_path / "userhome",
    )
    (repo / ".git").mkdir(parents=True)
    for directory in (lay.above_git, lay.outer, lay.inner, lay.user, lay.path1, lay.path2,
                      lay.bundled, lay.cwd, lay.home):
        directory.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(lay.home))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", os.pathsep.join([str(lay.path1), str(lay.path2)]))
    monkeypatch.setattr(discovery, "bundled_skills_dir", lambda: lay.bundled)
    return lay


def info_for(loaded: LoadedSkills, name: str, status: str = "ok") -> SkillInfo:
    found = [i for i in loaded.infos if i.name == name and i.status == status]
    assert len(found) == 1, (name, status, loaded.infos)
    return found[0]


# --- search roots --------------------------------------------------------------


def test_search_roots_order(layout: Layout) -> None:
    assert discovery.search_roots(layout.cwd) == [
        ("project", layout.inner.resolve()),
        ("project", layout.outer.resolve()),
        ("user", layout.user),
        ("path", layout.path1),
        ("path", layout.path2),
        ("bundled", layout.bundled),
    ]


def test_user_root_defaults_to_home_dot_claude(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    roots = discovery.search_roots(layout.cwd)
    assert ("user", layout.home / ".claude" / "skills") in roots
    assert discovery.claude_dir() == layout.home / ".claude"


def test_empty_skills_path_entries_are_skipped(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", os.pathsep + str(layout.path2) + os.pathsep)
    origins = [root for origin, root in discovery.search_roots(layout.cwd) if origin == "path"]
    assert origins == [layout.path2]


def test_search_stops_at_git_root(layout: Layout) -> None:
    name = f"above-{uid()}"
    make_skill(layout.above_git, name)
    roots = [root for _, root in discovery.search_roots(layout.cwd)]
    assert layout.above_git.resolve() not in roots
    loaded = load_skills(cwd=layout.cwd)
    assert loaded.registry.get(name) is None
    assert all(i.name != name for i in loaded.infos)


def test_missing_roots_are_fine(layout: Layout, tmp_path: Path) -> None:
    for directory in (layout.user, layout.path1, layout.bundled):
        directory.rmdir()
    loaded = load_skills(cwd=layout.cwd)
    assert len(loaded.registry) == 0
    assert loaded.infos == []


# --- precedence ----------------------------------------------------------------


def test_precedence_project_user_path_bundled(layout: Layout) -> None:
    order = [
        ("project", layout.inner),
        ("project", layout.outer),
        ("user", layout.user),
        ("path", layout.path1),
        ("path", layout.path2),
        ("bundled", layout.bundled),
    ]
    labels = ["inner", "outer", "user", "path1", "path2", "bundled"]
    tag = uid()
    # skill i exists in roots i.. only, so root i must win for it
    for i in range(len(order)):
        name = f"prec{i}-{tag}"
        for (_, root), label in zip(order[i:], labels[i:], strict=True):
            make_skill(root, name, desc=label)
    loaded = load_skills(cwd=layout.cwd)
    for i, ((origin, root), label) in enumerate(zip(order, labels, strict=True)):
        name = f"prec{i}-{tag}"
        spec = loaded.registry.get(name)
        assert spec is not None
        assert spec.description == label
        winner = info_for(loaded, name)
        assert winner.origin == origin
        assert winner.dir == (root / name).resolve()
        assert loaded.dir_of(name) == (root / name).resolve()
        shadowed = [s for s in loaded.infos if s.name == name and s.status == "shadowed"]
        assert [(s.origin, s.dir) for s in shadowed] == [
            (o, (r / name).resolve()) for o, r in order[i + 1 :]
        ]
    winners = {s.module: s.origin for s in loaded.sources}
    assert winners[f"skills.prec0_{tag}"] == "project"


def test_shadowed_by_module_name_across_dash_and_underscore(layout: Layout) -> None:
    tag = uid()
    make_skill(layout.user, f"dash-{tag}", desc="user")
    make_skill(layout.path1, f"dash_{tag}", desc="path")
    loaded = load_skills(cwd=layout.cwd)
    assert loaded.registry.get(f"dash-{tag}") is not None
    assert loaded.registry.get(f"dash_{tag}") is None
    shadowed = info_for(loaded, f"dash_{tag}", "shadowed")
    assert shadowed.origin == "path"
    assert shadowed.module == f"skills.dash_{tag}"


def test_real_bundled_hello_world_can_be_shadowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.delenv("SAGAFLOW_SKILLS_PATH", raising=False)
    cwd = tmp_path / "project"
    (cwd / ".git").mkdir(parents=True)

    loaded = load_skills(cwd=cwd)
    bundled = info_for(loaded, "hello-world")
    assert bundled.origin == "bundled"
    assert bundled.dir == discovery.bundled_skills_dir().resolve() / "hello-world"
    assert bundled.workflow == "HelloWorldWorkflow"

    make_skill(tmp_path / "claude" / "skills", "hello-world", desc="my own copy")
    loaded = load_skills(cwd=cwd)
    assert loaded.registry.get("hello-world").description == "my own copy"  # type: ignore[union-attr]
    assert info_for(loaded, "hello-world").origin == "user"
    assert info_for(loaded, "hello-world", "shadowed").origin == "bundled"
    module = importlib.import_module("skills.hello_world")
    assert Path(module.__file__ or "").parent == (tmp_path / "claude" / "skills" / "hello-world")


# --- errors --------------------------------------------------------------------


def test_broken_skills_are_reported_and_good_one_loads(layout: Layout) -> None:
    tag = uid()
    good = f"good-{tag}"
    syntax = f"syntax-{tag}"
    wf_syntax = f"wfsyntax-{tag}"
    raises = f"raises-{tag}"
    noreg = f"noreg-{tag}"
    make_skill(layout.user, good, desc="fine")
    make_skill(layout.user, syntax, init="from x import (\ndef register(registry):\n    pass\n")
    make_skill(layout.user, wf_syntax, workflow_src="class Wf(:\n    pass\n")
    make_skill(
        layout.user,
        raises,
        init="def register(registry):\n    x = 1\n    raise RuntimeError('boom in register')\n",
    )
    make_skill(layout.user, noreg, init="VALUE = 1\n")

    loaded = load_skills(cwd=layout.cwd)

    assert loaded.registry.names() == [good]
    assert info_for(loaded, good).workflow == f"Wf_good_{tag}"

    def error_of(name: str) -> str:
        info = info_for(loaded, name, "error")
        assert info.error is not None
        assert "\n" not in info.error
        assert str(layout.user.resolve() / name) in info.error
        assert loaded.registry.get(name) is None
        assert loaded.dir_of(name) is None
        return info.error

    assert "syntax error at __init__.py:" in error_of(syntax)
    assert "syntax error at workflow.py:1" in error_of(wf_syntax)
    message = error_of(raises)
    assert "at __init__.py:3" in message
    assert "RuntimeError: boom in register" in message
    assert "register(registry)" in error_of(noreg)
    # failed modules are not left half-imported
    assert f"skills.syntax_{tag}" not in sys.modules
    assert f"skills.raises_{tag}" not in sys.modules


def test_duplicate_skill_name_is_an_error_for_the_second(layout: Layout) -> None:
    tag = uid()
    name = f"dup-{tag}"
    make_skill(layout.inner, f"first-{tag}", name=name, desc="first")
    make_skill(layout.user, f"second-{tag}", name=name, desc="second")
    loaded = load_skills(cwd=layout.cwd)
    assert loaded.registry.get(name).description == "first"  # type: ignore[union-attr]
    error = info_for(loaded, f"second-{tag}", "error").error or ""
    assert "registered twice" in error


def test_ignored_directories(layout: Layout) -> None:
    tag = uid()
    (layout.user / f"noinit-{tag}").mkdir()
    make_skill(layout.user, f"_private_{tag}")
    make_skill(layout.user, f".hidden-{tag}")
    (layout.user / f"file-{tag}.py").write_text("x = 1\n", encoding="utf-8")
    make_skill(layout.user, f"real-{tag}")
    loaded = load_skills(cwd=layout.cwd)
    assert [i.name for i in loaded.infos] == [f"real-{tag}"]


def test_register_that_fails_halfway_leaves_nothing_registered(layout: Layout) -> None:
    # register() adds its spec and then raises: the skill must not stay launchable.
    tag = uid()
    name = f"half-{tag}"
    init = INIT.format(mod=f"half_{tag}", name=name, desc="") + "    raise RuntimeError('late')\n"
    make_skill(layout.user, name, init=init)
    loaded = load_skills(cwd=layout.cwd)
    assert info_for(loaded, name, "error").error
    assert loaded.registry.get(name) is None


def test_failure_does_not_unload_skill_with_longer_name(layout: Layout) -> None:
    # A failing skills.x<tag> must not drop the loaded skills.x<tag>_more from sys.modules.
    tag = uid()
    good = f"x{tag}-more"
    make_skill(layout.inner, good)  # project: loads first
    make_skill(layout.user, f"x{tag}", init="raise RuntimeError('broken')\n")
    loaded = load_skills(cwd=layout.cwd)
    assert info_for(loaded, f"x{tag}", "error")
    spec = loaded.registry.get(good)
    assert spec is not None
    workflow_module = importlib.import_module(f"skills.x{tag}_more.workflow")
    assert spec.workflow_cls is workflow_module.Wf


# --- imports -------------------------------------------------------------------


def test_import_resolves_to_winning_directory(layout: Layout) -> None:
    tag = uid()
    name = f"imp-{tag}"
    mod = f"skills.imp_{tag}"
    winner = make_skill(layout.outer, name, desc="winner")
    make_skill(layout.user, name, desc="loser")
    make_skill(layout.bundled, name, desc="bundled loser")
    loaded = load_skills(cwd=layout.cwd)

    package = importlib.import_module(mod)
    assert Path(package.__file__ or "").resolve() == (winner / "__init__.py").resolve()
    workflow_module = importlib.import_module(f"{mod}.workflow")
    assert Path(workflow_module.__file__ or "").resolve() == (winner / "workflow.py").resolve()
    spec = loaded.registry.get(name)
    assert spec is not None
    assert spec.workflow_cls is workflow_module.Wf
    assert spec.workflow_name == f"Wf_imp_{tag}"
    assert info_for(loaded, name).module == mod
    assert {s.module: s.dir for s in loaded.sources}[mod] == winner.resolve()


def test_import_after_reload_sees_new_winner(layout: Layout) -> None:
    tag = uid()
    name = f"swap-{tag}"
    mod = f"skills.swap_{tag}"
    make_skill(layout.user, name, desc="user")
    load_skills(cwd=layout.cwd)
    first = Path(importlib.import_module(mod).__file__ or "").parent
    assert first == (layout.user / name).resolve()

    project = make_skill(layout.inner, name, desc="project")
    loaded = load_skills(cwd=layout.cwd)
    assert loaded.registry.get(name).description == "project"  # type: ignore[union-attr]
    assert Path(importlib.import_module(mod).__file__ or "").parent == project.resolve()


def test_unknown_skills_submodule_is_not_found(layout: Layout) -> None:
    load_skills(cwd=layout.cwd)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"skills.nothing_{uid()}")


# --- fingerprint ---------------------------------------------------------------


def test_fingerprint_tracks_skill_files(layout: Layout) -> None:
    directory = make_skill(layout.user, f"fp-{uid()}")
    loaded = load_skills(cwd=layout.cwd)
    before = discovery.fingerprint(loaded.sources)
    assert before == discovery.fingerprint(loaded.sources)
    (directory / "prompts").mkdir()
    (directory / "prompts" / "new.md").write_text("a new prompt\n", encoding="utf-8")
    assert discovery.fingerprint(loaded.sources) != before


# --- loading one skill (launch) ----------------------------------------------------


def test_only_imports_just_the_named_skill(layout: Layout) -> None:
    tag = uid()
    wanted, other = f"want-{tag}", f"other-{tag}"
    make_skill(layout.user, wanted, desc="mine")
    make_skill(layout.path1, other)
    make_skill(layout.bundled, wanted, desc="bundled copy")
    loaded = load_skills(cwd=layout.cwd, only=wanted)
    assert loaded.registry.names() == [wanted]
    assert loaded.registry.get(wanted).description == "mine"  # type: ignore[union-attr]
    assert loaded.dir_of(wanted) == (layout.user / wanted).resolve()
    assert f"skills.other_{tag}" not in sys.modules
    # every active skill still counts for the worker's fingerprint
    assert {s.module for s in loaded.sources} == {f"skills.want_{tag}", f"skills.other_{tag}"}
    assert discovery.fingerprint(loaded.sources) == discovery.fingerprint(
        load_skills(cwd=layout.cwd).sources
    )


def test_only_falls_back_to_loading_everything(layout: Layout) -> None:
    tag = uid()
    renamed, broken, fine = f"renamed-{tag}", f"broken-{tag}", f"fine-{tag}"
    make_skill(layout.user, f"dir-{tag}", name=renamed)  # directory named unlike the skill
    make_skill(layout.user, broken, init="raise RuntimeError('broken')\n")
    make_skill(layout.user, fine)
    loaded = load_skills(cwd=layout.cwd, only=renamed)
    assert loaded.registry.get(renamed) is not None
    assert set(loaded.registry.names()) == {renamed, fine}
    loaded = load_skills(cwd=layout.cwd, only=broken)
    assert "RuntimeError: broken" in (info_for(loaded, broken, "error").error or "")
    assert loaded.registry.get(fine) is not None  # near-match hints see every skill
    loaded = load_skills(cwd=layout.cwd, only=f"missing-{tag}")
    assert set(loaded.registry.names()) == {renamed, fine}
